import ArgumentParser
import Foundation
import PetrelCore
import PetrelStore

struct OptOutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "optout",
        abstract: "Suppression lists: phones refused an account's MKT (and NOTIFY, by optOut.appliesTo) messages.",
        subcommands: [Add.self, Remove.self, List.self, Import.self]
    )

    struct Target: ParsableArguments {
        @OptionGroup var data: DataDirOption
        @Option(help: "The account whose list it is.") var account = "default"
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Put phones on an account's list.")
        @OptionGroup var target: Target
        @Option(help: "optOut.maxPhones of the servers' config: the lists may hold this many phones in all.")
        var maxPhones = 1_000_000
        @Argument(help: "Phone numbers, with their country code.") var phones: [String]

        func run() async throws {
            let digits = try phones.map(OptOutCommand.number)
            let added = try await withStore(target.data) { store in
                try await checkAccount(target.account, in: store, createFlag: nil)
                return try await store.optOut(
                    account: target.account,
                    phones: digits,
                    source: "cli",
                    maxPhones: maxPhones,
                    nowMs: nowMs()
                )
            }
            print(#"{"Added":\#(added)}"#)
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Take phones off an account's list.")
        @OptionGroup var target: Target
        @Argument(help: "Phone numbers, with their country code.") var phones: [String]

        func run() async throws {
            let digits = try phones.map(OptOutCommand.number)
            let removed = try await withStore(target.data) { store in
                try await checkAccount(target.account, in: store, createFlag: nil)
                return try await store.optIn(account: target.account, phones: digits, source: "cli", nowMs: nowMs())
            }
            print(#"{"Removed":\#(removed)}"#)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the phones, newest first (JSON lines).")
        @OptionGroup var data: DataDirOption
        @Option(help: "Only this account's (default: every account's).") var account: String?
        @Option(help: "At most this many.") var limit = 1000

        func run() async throws {
            let entries = try await withStore(data) { store in
                if let account { try await checkAccount(account, in: store, createFlag: nil) }
                return try await store.optOuts(account: account, limit: max(1, min(limit, 10_000_000)))
            }
            for e in entries {
                print(
                    #"{"Account":\#(json(e.account)),"Phone":\#(json(e.phone)),"Source":\#(json(e.source)),"At":\#(e.changedAtMs)}"#
                )
            }
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Put the phones of a file (one a line, or a CSV's first column) on an account's list."
        )
        @OptionGroup var target: Target
        @Option(help: "optOut.maxPhones of the servers' config: the lists may hold this many phones in all.")
        var maxPhones = 1_000_000
        @Argument(help: "The file; blank lines, lines starting with # and a header line are skipped.") var file: String

        func run() async throws {
            let text: String
            do {
                text = try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                throw CLIError(description: "cannot read \(file) as UTF-8 text")
            }
            var phones: [String] = []
            var invalid: [String] = []
            for (i, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
                let raw = String(line.split(separator: ",", maxSplits: 1).first ?? "")
                    .trimmingCharacters(in: CharacterSet(charactersIn: " \t\"'"))
                if raw.isEmpty || raw.hasPrefix("#") { continue }
                if let number = try? OptOutCommand.number(raw) {
                    phones.append(number)
                } else if !(i == 0 && raw.contains(where: \.isLetter)) {
                    invalid.append("line \(i + 1): \(raw.prefix(40))")
                }
            }
            guard invalid.isEmpty else {
                let first = invalid.prefix(5).joined(separator: "; ")
                throw CLIError(
                    description: "\(invalid.count) lines of \(file) are not phone numbers (\(first)); nothing was added"
                )
            }
            let added = try await withStore(target.data) { store in
                try await checkAccount(target.account, in: store, createFlag: nil)
                var added = 0
                // A transaction per 10 000 phones: the store's writer is not held for a whole file.
                var start = 0
                while start < phones.count {
                    let chunk = Array(phones[start..<min(start + 10_000, phones.count)])
                    do {
                        added += try await store.optOut(
                            account: target.account,
                            phones: chunk,
                            source: "import",
                            maxPhones: maxPhones,
                            nowMs: nowMs()
                        )
                    } catch let full as OptOutListFull {
                        throw CLIError(
                            description:
                                "the lists would hold more than --max-phones (\(full.maxPhones)) phones: \(added) were added, the rest from line \(start + 1) of the numbers read were not"
                        )
                    }
                    start += chunk.count
                }
                return added
            }
            print(#"{"Read":\#(phones.count),"Added":\#(added)}"#)
        }
    }

    /// A phone as the accept path stores it: its digits with the country code.
    static func number(_ raw: String) throws -> String {
        guard case .success(let n) = PhoneNumber.parse(raw) else {
            throw CLIError(
                description: "\(raw) is not a phone number with its country code (85291234567, +85291234567)"
            )
        }
        return n.digits
    }
}
