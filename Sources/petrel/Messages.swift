import ArgumentParser
import Foundation
import PetrelCore
import PetrelServer
import PetrelStore

struct MessagesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "messages",
        abstract: "Find messages and show a message's whole history (works while a server runs).",
        subcommands: [Show.self, List.self]
    )

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A message's timeline: accepted, submitted, retries, its receipt, the receipt's push.",
            discussion: """
                A waiting message says what the store knows (scheduled until T, retry at T after a reason, queued \
                since T); the console's message page adds what the running dispatcher sees.
                """
        )
        @OptionGroup var data: DataDirOption
        @Argument(help: "The MessageId (BizId) the API answered.") var id: String
        @Option(help: "The message's account (default: whichever account has it).") var account: String?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            guard let messageId = Int64(id), messageId > 0 else {
                throw CLIError(description: "the MessageId must be digits (at most 19), got \(id)")
            }
            let timeline = try await withStore(data) { store -> MessageTimeline? in
                if let account {
                    try await checkAccount(account, in: store, createFlag: nil)
                    return try await store.history(messageId: messageId, account: account)
                }
                for account in try await Accounts.known(in: store).sorted() {
                    if let t = try await store.history(messageId: messageId, account: account) { return t }
                }
                return nil
            }
            guard let timeline else {
                let scope = account.map { " in account \($0)" } ?? ""
                throw CLIError(description: "no message \(messageId)\(scope) in this store")
            }
            let waiting = timeline.storeWaitReason(nowMs: nowMs())
            print(
                json ? MessagesOutput.json(timeline, waiting: waiting) : MessagesOutput.text(timeline, waiting: waiting)
            )
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Messages matching the console's filters, newest first."
        )
        @OptionGroup var data: DataDirOption
        @Option(help: "Only this account's (default: every account's).") var account: String?
        @Option(help: "Only messages in this status (queued, submitting, sent, delivered, failed, expired).")
        var status: String?
        @Option(name: .customLong("to"), help: "Only messages to this number (digits, country code first).")
        var to: String?
        @Option(help: "Only messages of this TaskId.") var taskId: String?
        @Option(help: "Only messages accepted since TIME (ISO 8601, like 2026-11-26T08:00:00Z, or epoch milliseconds).")
        var since: String?
        @Option(help: "At most this many (1 to 10000).") var limit = 100
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            guard (1...10_000).contains(limit) else { throw CLIError(description: "--limit must be 1 to 10000") }
            var query = MessageQuery(account: "")
            if let status {
                guard let s = MessageStatus.allCases.first(where: { $0.name == status }) else {
                    let names = MessageStatus.allCases.map(\.name).joined(separator: ", ")
                    throw CLIError(description: "--status must be one of \(names), got \(status)")
                }
                query.status = s
            }
            if var to {
                to = to.trimmingCharacters(in: CharacterSet(charactersIn: " +"))
                if to.hasPrefix("00") { to.removeFirst(2) }
                guard !to.isEmpty, to.count <= 20, to.allSatisfy(\.isASCII), to.allSatisfy(\.isNumber) else {
                    throw CLIError(description: "--to must be a number in digits, country code first (85291234567)")
                }
                query.to = to
            }
            query.taskId = taskId ?? ""
            if let since {
                guard let ms = Int64(since) ?? AlibabaDate.parseISO8601(since).map({ $0 * 1000 }) else {
                    throw CLIError(description: "--since must be ISO 8601 (2026-11-26T08:00:00Z) or epoch milliseconds")
                }
                query.sinceMs = ms
            }
            query.limit = limit
            let found = try await withStore(data) { store -> [Message] in
                let accounts: [String]
                if let account {
                    try await checkAccount(account, in: store, createFlag: nil)
                    accounts = [account]
                } else {
                    accounts = try await Accounts.known(in: store).sorted()
                }
                var all: [Message] = []
                for a in accounts {
                    query.account = a
                    all += try await store.searchMessages(query)
                }
                return Array(all.sorted { ($0.createdAtMs, $0.id) > ($1.createdAtMs, $1.id) }.prefix(limit))
            }
            print(json ? MessagesOutput.json(found) : MessagesOutput.text(found))
        }
    }
}

/// How `petrel messages` prints: aligned lines for a person, JSON (times in ISO 8601 UTC and epoch ms) for a script.
enum MessagesOutput {
    static func time(_ ms: Int64) -> String {
        let iso = AlibabaDate.iso8601(seconds: ms / 1000)  // 2026-11-26T06:42:47Z
        return String(iso.dropLast()) + String(format: ".%03dZ", Int(((ms % 1000) + 1000) % 1000))
    }

    static func text(_ t: MessageTimeline, waiting: WaitReason?) -> String {
        let m = t.message
        var lines = ["Message \(m.id)  account \(m.account)  to \(m.to)  \(m.status.name)"]
        for e in t.entries {
            var line =
                "\(time(e.atMs))  \(e.kind.rawValue.padding(toLength: 16, withPad: " ", startingAt: 0))  \(e.detail)"
            if let until = e.untilMs { line += " (until \(time(until)))" }
            lines.append(line)
        }
        if let waiting { lines.append("Waiting: \(waiting.sentence(time))") }
        return lines.joined(separator: "\n")
    }

    static func json(_ t: MessageTimeline, waiting: WaitReason?) -> String {
        let m = t.message
        let entries = t.entries.map { e in
            var fields = [
                #""At":\#(petrel.json(time(e.atMs)))"#, #""AtMs":\#(e.atMs)"#,
                #""Event":\#(petrel.json(e.kind.rawValue))"#,
                #""Detail":\#(petrel.json(e.detail))"#,
            ]
            if let until = e.untilMs { fields += [#""Until":\#(petrel.json(time(until)))"#, #""UntilMs":\#(until)"#] }
            return "{" + fields.joined(separator: ",") + "}"
        }
        let wait = waiting.map { petrel.json($0.sentence(time)) } ?? "null"
        return
            #"{"MessageId":"\#(m.id)","Account":\#(petrel.json(m.account)),"To":\#(petrel.json(m.to)),"Status":\#(petrel.json(m.status.name)),"Waiting":\#(wait),"Timeline":[\#(entries.joined(separator: ","))]}"#
    }

    static func text(_ found: [Message]) -> String {
        guard !found.isEmpty else { return "No message matches." }
        return found.map { m in
            let status = m.status.name.padding(toLength: 10, withPad: " ", startingAt: 0)
            return "\(m.id)  \(time(m.createdAtMs))  \(status)  \(m.account)  \(m.to)  \(m.taskId)"
        }.joined(separator: "\n")
    }

    static func json(_ found: [Message]) -> String {
        let items = found.map { m in
            #"{"MessageId":"\#(m.id)","Account":\#(petrel.json(m.account)),"To":\#(petrel.json(m.to)),"Status":\#(petrel.json(m.status.name)),"TaskId":\#(petrel.json(m.taskId)),"Accepted":\#(petrel.json(time(m.createdAtMs))),"Parts":\#(m.segments),"ErrorCode":\#(petrel.json(m.errorCode))}"#
        }
        return #"{"Messages":[\#(items.joined(separator: ","))]}"#
    }
}
