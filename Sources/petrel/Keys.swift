import ArgumentParser
import Foundation
import PetrelAPI
import PetrelCore
import PetrelServer
import PetrelStore

struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage access keys (works while a server runs on the same data directory).",
        subcommands: [Create.self, List.self, Disable.self, Enable.self, Delete.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a key and print its id and secret.")
        @OptionGroup var data: DataDirOption
        @Option(help: "A name to recognise the key by.") var name: String
        @Option(help: "The account the key acts for.") var account = "default"
        @Option(help: "A RAM-style policy file (JSON); without one the key has full rights.") var policy: String?
        @Flag(name: .customLong("create-account"), help: "Make --account if the store does not have it yet.")
        var createAccount = false
        @Flag(
            name: .customLong("init-store"),
            help: "Make the data directory, store and master key if there are none yet (as `petrel serve` would)."
        )
        var initStore = false

        func run() async throws {
            var policyText: String?
            if let policy {
                guard let data = FileManager.default.contents(atPath: policy) else {
                    throw CLIError(description: "cannot read the policy file \(policy)")
                }
                let text = String(decoding: data, as: UTF8.self)
                do {
                    _ = try Policy.parse(text)
                } catch {
                    throw CLIError(description: "invalid policy: \(error)")
                }
                policyText = text
            }
            guard isPlainIdentifier(account, maxLength: 64) else {
                throw CLIError(description: "--account must be 1 to 64 printable ASCII characters without spaces")
            }
            let key = AccessKeys.make(name: name, account: account, policy: policyText, nowMs: nowMs())
            do {
                try await withStore(data, creating: initStore) { store in
                    try await checkAccount(account, in: store, createFlag: createAccount)
                    try await store.putAccessKey(key)
                }
            } catch let missing as DataDirectory.Missing {
                throw CLIError(description: "\(missing); or pass --init-store to make a new store there")
            }
            print(#"{"AccessKeyId":"\#(key.id)","AccessKeySecret":"\#(key.secret)"}"#)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys (never their secrets).")
        @OptionGroup var data: DataDirOption
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let keys = try await withStore(data) { try await $0.accessKeys() }
            if json {
                let items = keys.map {
                    #"{"AccessKeyId":"\#($0.id)","Account":"\#($0.account)","Name":"\#($0.name)","Enabled":\#($0.enabled),"Policy":\#($0.policy == nil ? "false" : "true")}"#
                }
                print("[" + items.joined(separator: ",") + "]")
                return
            }
            print("ID                        ACCOUNT          NAME             STATUS    POLICY")
            for k in keys {
                print(
                    k.id.padding(toLength: 26, withPad: " ", startingAt: 0)
                        + k.account.padding(toLength: 17, withPad: " ", startingAt: 0)
                        + k.name.padding(toLength: 17, withPad: " ", startingAt: 0)
                        + (k.enabled ? "enabled   " : "disabled  ") + (k.policy == nil ? "full" : "custom")
                )
            }
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disable a key; calls with it fail at once.")
        @OptionGroup var data: DataDirOption
        @Argument var id: String
        func run() async throws {
            let found = try await withStore(data) { try await $0.setAccessKey(id: id, enabled: false) }
            guard found else { throw CLIError(description: "no key \(id)") }
            print("disabled \(id)")
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enable a disabled key.")
        @OptionGroup var data: DataDirOption
        @Argument var id: String
        func run() async throws {
            let found = try await withStore(data) { try await $0.setAccessKey(id: id, enabled: true) }
            guard found else { throw CLIError(description: "no key \(id)") }
            print("enabled \(id)")
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a key.")
        @OptionGroup var data: DataDirOption
        @Argument var id: String
        func run() async throws {
            let found = try await withStore(data) { try await $0.deleteAccessKey(id: id) }
            guard found else { throw CLIError(description: "no key \(id)") }
            print("deleted \(id)")
        }
    }
}
