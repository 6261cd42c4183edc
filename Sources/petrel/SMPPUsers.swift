import ArgumentParser
import Foundation
import PetrelCore
import PetrelServer
import PetrelStore

/// `petrel smpp-users`: who may bind to `smppServer:` (works while a server runs on the same data directory).
struct SMPPUsersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "smpp-users",
        abstract: "Manage the system_ids ESMEs bind to the SMPP server with.",
        subcommands: [Add.self, List.self, Disable.self, Enable.self, Delete.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a system_id acting for an account.")
        @OptionGroup var data: DataDirOption
        @Argument(help: "The system_id (1 to 15 printable ASCII characters).") var systemID: String
        @Option(help: "The password (1 to 8 printable ASCII characters, as SMPP 3.4 allows).") var password: String
        @Option(help: "The account its messages are sent for.") var account: String
        @Option(name: .customLong("max-binds"), help: "Binds of this system_id at once (default: no own limit).")
        var maxBinds: Int?
        @Option(help: "submit_sm per second over its binds (default: no own limit).") var tps: Int?
        @Option(name: .customLong("allow-ip"), help: "An address block binds may come from (CIDR; repeatable).")
        var allowIP: [String] = []
        @Flag(name: .customLong("create-account"), help: "Make --account if the store does not have it yet.")
        var createAccount = false

        func validate() throws {
            guard isPlainIdentifier(systemID, maxLength: 15) else {
                throw ValidationError("SYSTEM_ID must be 1 to 15 printable ASCII characters without spaces")
            }
            guard isPlainIdentifier(password, maxLength: 8) else {
                throw ValidationError("--password must be 1 to 8 printable ASCII characters without spaces")
            }
            guard isPlainIdentifier(account, maxLength: 64) else {
                throw ValidationError("--account must be 1 to 64 printable ASCII characters without spaces")
            }
            if let maxBinds, !(1...100_000).contains(maxBinds) {
                throw ValidationError("--max-binds must be 1 to 100000")
            }
            if let tps, !(1...1_000_000).contains(tps) { throw ValidationError("--tps must be 1 to 1000000") }
            for block in allowIP where IPBlock(block) == nil {
                throw ValidationError("--allow-ip \(block) is not an address or CIDR block (10.0.0.0/8, 2001:db8::/32)")
            }
        }

        func run() async throws {
            let user = SMPPUserRecord(
                systemID: systemID,
                password: password,
                account: account,
                maxBinds: maxBinds,
                tps: tps,
                allowIP: allowIP.compactMap { IPBlock($0)?.description },
                createdAtMs: nowMs()
            )
            let added = try await withStore(data) { store in
                try await checkAccount(account, in: store, createFlag: createAccount)
                return try await store.addSMPPUser(user)
            }
            guard added else { throw CLIError(description: "system_id \(systemID) exists; delete it first") }
            print("added \(systemID) for account \(account)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List system_ids (never their passwords).")
        @OptionGroup var data: DataDirOption

        func run() async throws {
            let users = try await withStore(data) { try await $0.smppUsers() }
            print("SYSTEM_ID        ACCOUNT          STATUS    MAX_BINDS  TPS      ALLOW_IP")
            for u in users {
                let columns: [(String, Int)] = [
                    (u.systemID, 17), (u.account, 17), (u.enabled ? "enabled" : "disabled", 10),
                    (u.maxBinds.map(String.init) ?? "-", 11), (u.tps.map(String.init) ?? "-", 9),
                ]
                let head = columns.map { $0.0.padding(toLength: $0.1, withPad: " ", startingAt: 0) }.joined()
                print(head + (u.allowIP.isEmpty ? "any" : u.allowIP.joined(separator: ",")))
            }
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Refuse its next binds (binds open now stay).")
        @OptionGroup var data: DataDirOption
        @Argument var systemID: String
        func run() async throws {
            let found = try await withStore(data) { try await $0.setSMPPUser(systemID: systemID, enabled: false) }
            guard found else { throw CLIError(description: "no system_id \(systemID)") }
            print("disabled \(systemID)")
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enable a disabled system_id.")
        @OptionGroup var data: DataDirOption
        @Argument var systemID: String
        func run() async throws {
            let found = try await withStore(data) { try await $0.setSMPPUser(systemID: systemID, enabled: true) }
            guard found else { throw CLIError(description: "no system_id \(systemID)") }
            print("enabled \(systemID)")
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a system_id.")
        @OptionGroup var data: DataDirOption
        @Argument var systemID: String
        func run() async throws {
            let found = try await withStore(data) { try await $0.deleteSMPPUser(systemID: systemID) }
            guard found else { throw CLIError(description: "no system_id \(systemID)") }
            print("deleted \(systemID)")
        }
    }
}
