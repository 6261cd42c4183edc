import ArgumentParser
import Foundation
import PetrelCore
import PetrelDelivery
import PetrelServer
import PetrelStore

struct AccountsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accounts",
        abstract:
            "Account settings: where delivery receipts and inbound messages are pushed (works while a server runs).",
        subcommands: [SetReceiptURL.self, SetMoURL.self, List.self]
    )

    struct SetReceiptURL: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-receipt-url",
            abstract: "Push the account's delivery receipts to URL (\"\" stops them); prints the webhook secret.",
            discussion: "A running server picks the change up within a few seconds."
        )
        @OptionGroup var data: DataDirOption
        @Argument(help: "The account (\"default\" unless keys were made for another).") var account: String
        @Argument(help: "http[s]://host[:port]/path, or \"\" to stop pushing.") var url: String
        @Option(help: "The webhook secret that signs pushes (default: keep the current one, or make one).") var secret:
            String?
        @Flag(name: .customLong("create-account"), help: "Make the account if the store does not have it yet.")
        var createAccount = false

        func run() async throws {
            try await AccountsCommand.setURL(
                data,
                account: account,
                url: url,
                secret: secret,
                createAccount: createAccount,
                what: "receipt",
                field: "ReceiptUrl",
                set: Accounts.setReceiptURL,
                shown: \.receiptURL
            )
        }
    }

    struct SetMoURL: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-mo-url",
            abstract:
                "Push the account's inbound messages (SmsUp) to URL (\"\" stops them); prints the webhook secret.",
            discussion:
                "The webhook secret signs receipt and inbound pushes alike. A running server picks the change up within a few seconds."
        )
        @OptionGroup var data: DataDirOption
        @Argument(help: "The account (\"default\" unless keys were made for another).") var account: String
        @Argument(help: "http[s]://host[:port]/path, or \"\" to stop pushing.") var url: String
        @Option(help: "The webhook secret that signs pushes (default: keep the current one, or make one).") var secret:
            String?
        @Flag(name: .customLong("create-account"), help: "Make the account if the store does not have it yet.")
        var createAccount = false

        func run() async throws {
            try await AccountsCommand.setURL(
                data,
                account: account,
                url: url,
                secret: secret,
                createAccount: createAccount,
                what: "inbound",
                field: "MoUrl",
                set: Accounts.setMoURL,
                shown: \.moURL
            )
        }
    }

    /// What `set-receipt-url` and `set-mo-url` share: the checks, the change in the store, the answer printed.
    static func setURL(
        _ data: DataDirOption,
        account: String,
        url: String,
        secret: String?,
        createAccount: Bool,
        what: String,
        field: String,
        set: (any ReceiptOutbox, String, String, String?, Int64) async throws -> AccountRecord,
        shown: (AccountRecord) -> String
    ) async throws {
        guard isPlainIdentifier(account, maxLength: 64) else {
            throw CLIError(description: "the account must be 1 to 64 printable ASCII characters without spaces")
        }
        guard url.isEmpty || WebhookClient.Endpoint(url: url) != nil else {
            throw CLIError(description: "the \(what) URL must look like http[s]://host[:port]/path, got \(url)")
        }
        if let secret, secret.count < 16 {
            throw CLIError(description: "--secret must have at least 16 characters")
        }
        let record = try await withStore(data) { store in
            try await checkAccount(account, in: store, createFlag: createAccount)
            return try await set(store, account, url, secret, nowMs())
        }
        print(
            #"{"Account":\#(json(record.name)),"\#(field)":\#(json(shown(record))),"WebhookSecret":\#(json(record.webhookSecret))}"#
        )
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List accounts with receipt settings (never their secrets)."
        )
        @OptionGroup var data: DataDirOption

        func run() async throws {
            let (accounts, counts) = try await withStore(data) {
                (try await $0.accounts(), try await $0.outboxCounts())
            }
            let items = accounts.map {
                #"{"Account":\#(json($0.name)),"ReceiptUrl":\#(json($0.receiptURL)),"MoUrl":\#(json($0.moURL))}"#
            }
            print(
                #"{"Accounts":[\#(items.joined(separator: ","))],"Outbox":{"Pending":\#(counts.pending),"Parked":\#(counts.parked)}}"#
            )
        }
    }
}

struct ReceiptsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "receipts",
        abstract: "The delivery-receipt outbox: push receipts again, list and retry parked ones.",
        subcommands: [Replay.self, Parked.self, Retry.self]
    )

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Push the receipts of final messages again (a running server sends them within seconds)."
        )
        @OptionGroup var data: DataDirOption
        @Option(help: "Only this account's messages.") var account: String?
        @Option(help: "Only this message.") var messageId: String?
        @Option(help: "Only messages of this TaskId.") var taskId: String?
        @Option(help: "Only messages finished since TIME (ISO 8601, like 2026-11-26T08:00:00Z, or epoch milliseconds).")
        var since: String?

        func validate() throws {
            guard messageId != nil || taskId != nil || since != nil || account != nil else {
                throw ValidationError("name what to replay: --account, --message-id, --task-id or --since")
            }
        }

        func run() async throws {
            var filter = ReceiptFilter(account: account, taskId: taskId)
            if let messageId {
                guard let id = Int64(messageId) else {
                    throw CLIError(description: "--message-id must be a MessageId (digits)")
                }
                filter.messageId = id
            }
            if let since {
                guard let ms = Int64(since) ?? AlibabaDate.parseISO8601(since).map({ $0 * 1000 }) else {
                    throw CLIError(description: "--since must be ISO 8601 (2026-11-26T08:00:00Z) or epoch milliseconds")
                }
                filter.sinceMs = ms
            }
            let count = try await withStore(data) { store in
                if let account { try await checkAccount(account, in: store, createFlag: nil) }
                return try await store.replayReceipts(filter, nowMs: nowMs())
            }
            print(#"{"Replayed":\#(count)}"#)
        }
    }

    struct Parked: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List parked receipts (JSON lines).")
        @OptionGroup var data: DataDirOption
        @Option(help: "Only this account's.") var account: String?
        @Option(help: "At most this many.") var limit = 1000

        func run() async throws {
            let parked = try await withStore(data) { store in
                if let account { try await checkAccount(account, in: store, createFlag: nil) }
                return try await store.parkedReceipts(account: account, limit: limit)
            }
            for r in parked {
                print(
                    #"{"ReportId":"\#(r.id)","Account":\#(json(r.account)),"MessageId":"\#(r.message.id)","Attempts":\#(r.attempts),"LastError":\#(json(r.lastError))}"#
                )
            }
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Send parked receipts again.")
        @OptionGroup var data: DataDirOption
        @Option(help: "Only this account's.") var account: String?

        func run() async throws {
            let count = try await withStore(data) { store in
                if let account { try await checkAccount(account, in: store, createFlag: nil) }
                return try await store.retryParked(account: account, nowMs: nowMs())
            }
            print(#"{"Retried":\#(count)}"#)
        }
    }
}

/// A JSON string literal.
func json(_ s: String) -> String {
    let data = try! JSONSerialization.data(withJSONObject: [s], options: [.fragmentsAllowed, .withoutEscapingSlashes])
    return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
}
