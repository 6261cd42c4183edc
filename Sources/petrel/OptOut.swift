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
            let text = try OptOutCommand.read(file)
            var phones: [String] = []
            var invalid = 0
            var shown: [String] = []
            for (i, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
                // A phone is short: a long field is not one, and is neither parsed nor kept.
                let field = line.prefix(while: { $0 != "," })
                let long = field.utf8.count > 100
                let raw = String(field.prefix(100)).trimmingCharacters(in: CharacterSet(charactersIn: " \t\"'"))
                if raw.hasPrefix("#") || (raw.isEmpty && !long) { continue }
                if !long, let number = try? OptOutCommand.number(raw) {
                    phones.append(number)
                } else if !(i == 0 && raw.contains(where: \.isLetter)) {
                    invalid += 1
                    if shown.count < 5 { shown.append("line \(i + 1): \(OptOutCommand.printable(raw.prefix(40)))") }
                }
            }
            guard invalid == 0 else {
                let first = shown.joined(separator: "; ")
                throw CLIError(
                    description: "\(invalid) lines of \(file) are not phone numbers (\(first)); nothing was added"
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

    /// The most `import` reads: about ten million phones, one a line.
    static let maxFileBytes = 256 << 20

    /// `file` as UTF-8 text, refused past `maxFileBytes` (read at most one byte more: a device or pipe may not end).
    static func read(_ file: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: file) else {
            throw CLIError(description: "cannot open \(file)")
        }
        defer { try? handle.close() }
        var data = Data()
        while data.count <= maxFileBytes,
            let chunk = try? handle.read(upToCount: min(1 << 20, maxFileBytes + 1 - data.count)), !chunk.isEmpty
        {
            data.append(chunk)
        }
        guard data.count <= maxFileBytes else {
            throw CLIError(
                description: "\(file) is longer than \(maxFileBytes >> 20) MiB, the most petrel optout import reads; "
                    + "split it, nothing was added"
            )
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw CLIError(description: "cannot read \(file) as UTF-8 text")
        }
        return text
    }

    /// A line shown in an error, without control characters (a file may hold terminal escapes).
    static func printable(_ s: Substring) -> String {
        String(String.UnicodeScalarView(s.unicodeScalars.map { $0.properties.generalCategory == .control ? "?" : $0 }))
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
