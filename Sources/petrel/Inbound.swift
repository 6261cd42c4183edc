import ArgumentParser
import PetrelCore
import PetrelStore

struct InboundCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inbound",
        abstract: "Inbound messages (customers' replies): list them, retry parked pushes.",
        subcommands: [List.self, Retry.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List inbound messages, newest first (JSON lines).")
        @OptionGroup var data: DataDirOption
        @Option(help: "Only this account's.") var account: String?
        @Option(help: "Only those from this phone (digits, as the carrier gave them).") var from: String?
        @Option(help: "At most this many.") var limit = 100

        func run() async throws {
            let phone = from.map { $0.hasPrefix("+") ? String($0.dropFirst()) : $0 }
            let messages = try await withStore(data) { store in
                if let account { try await checkAccount(account, in: store, createFlag: nil) }
                return try await store.inboundMessages(
                    account: account,
                    from: phone,
                    limit: max(1, min(limit, 100_000))
                )
            }
            for m in messages {
                print(
                    #"{"SequenceId":\#(m.id),"Account":\#(json(m.account)),"From":\#(json(m.from)),"To":\#(json(m.to)),"Text":\#(json(m.text)),"Encoding":\#(json(m.encoding)),"Parts":\#(m.parts),"Incomplete":\#(m.incomplete),"Channel":\#(json(m.channel)),"ReceivedAt":\#(m.receivedAtMs)}"#
                )
            }
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Push parked inbound messages again.")
        @OptionGroup var data: DataDirOption
        @Option(help: "Only this account's.") var account: String?

        func run() async throws {
            let count = try await withStore(data) { store in
                if let account { try await checkAccount(account, in: store, createFlag: nil) }
                return try await store.retryParkedInbound(account: account, nowMs: nowMs())
            }
            print(#"{"Retried":\#(count)}"#)
        }
    }
}
