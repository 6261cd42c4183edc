import Logging
import PetrelAPI
import PetrelCore
import PetrelStore
import ServiceLifecycle
import Synchronization

/// Keeps this node's `OptOutBoard` (which the accept path asks, in memory) as the store has it: every half second
/// it reads the changes made since the last it read, by any node. Versions commit in order (`SuppressionList`), so
/// a phone that opted out on another node is refused here within a second. A phone taken off is forgotten by the
/// store after an hour; a node that could not read for half that long reads every list again.
struct OptOutWatch: Service {
    let store: any SuppressionList
    let board: OptOutBoard
    let logger: Logger
    let clock: @Sendable () -> Int64
    var refreshMs: Int64 = 500
    static let forgetAfterMs: Int64 = 3_600_000

    /// Reads every list into the board (before the first request, and after a long outage).
    func reload() async throws {
        var cursor = OptOutCursor.start
        var lists: [String: Set<String>] = [:]
        while case let page = try await store.optOutChanges(after: cursor, limit: OptOutBoard.page),
            let last = page.last
        {
            for e in page {
                if e.optedOut {
                    lists[e.account, default: []].insert(e.phone)
                } else {
                    lists[e.account]?.remove(e.phone)
                }
            }
            cursor = last.cursor
        }
        board.replace(lists, read: cursor)
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var readAt = clock()
            var prunedAt = clock()
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(refreshMs))
                let now = clock()
                do {
                    if now - readAt > Self.forgetAfterMs / 2 {
                        try await reload()
                    } else {
                        try await board.catchUp(from: store)
                    }
                    readAt = now
                    ServerMetrics.gauge("petrel_optout_phones", board.count)
                    if now - prunedAt >= 60_000 {
                        prunedAt = now
                        _ = try await store.pruneOptIns(beforeMs: now - Self.forgetAfterMs)
                    }
                } catch {
                    // A read cut short by the server stopping is not a failure worth a warning.
                    if !Task.isCancelled, !(error is CancellationError) {
                        logger.storeFailure("cannot read the suppression lists", error)
                    }
                }
            }
        }
    }
}

extension OptOutBoard {
    static let page = 10_000

    /// Applies the store's changes after the last it read: every half second (`OptOutWatch`), and at once after
    /// this node's own change (a console's, an inbound STOP's), instead of applying that change itself.
    func catchUp(from store: any SuppressionList) async throws {
        while case let page = try await store.optOutChanges(after: read, limit: Self.page), !page.isEmpty {
            apply(read: page.map { ($0.cursor, $0.optedOut) })
            if page.count < Self.page { break }
        }
    }
}

/// The confirmations of `optOut.reply` and `startReply`: ordinary NOTIFY messages of the account, accepted through
/// the gateway like a console send, exempt from the list the phone just joined.
struct OptOutReplies: Sendable {
    let configuration: OptOutConfiguration
    let gateway: Gateway
    let logger: Logger
    let clock: @Sendable () -> Int64
    let budget: Budget

    /// This node's `ReplyBudget`, shared by every copy of the replies.
    final class Budget: Sendable {
        let state: Mutex<ReplyBudget>
        init(_ b: ReplyBudget) { state = Mutex(b) }
    }

    init(configuration: OptOutConfiguration, gateway: Gateway, logger: Logger, clock: @escaping @Sendable () -> Int64) {
        self.configuration = configuration
        self.gateway = gateway
        self.logger = logger
        self.clock = clock
        budget = Budget(
            ReplyBudget(perPhone: configuration.repliesPerPhoneDay, perAccount: configuration.repliesPerAccountHour)
        )
    }

    func send(_ changes: [OptOutChange]) async {
        for change in changes {
            let replies = configuration.replies(account: change.account)
            let text = change.optedOut ? replies.reply : replies.startReply
            guard !text.isEmpty else { continue }
            let now = clock()
            if let refusal = budget.state.withLock({ $0.take(account: change.account, phone: change.phone, nowMs: now) }
            ) {
                // Debug only: a flood would otherwise write a line per STOP.
                logger.debug(
                    "no opt-out confirmation: its budget is spent",
                    metadata: ["account": "\(change.account)", "budget": "\(refusal)"]
                )
                continue
            }
            let from = replies.replyFrom.isEmpty ? change.to : replies.replyFrom
            var params = [("To", change.phone), ("Message", text), ("Type", "NOTIFY")]
            if SenderID.isValid(from) { params.append(("From", from)) }
            do {
                let result = try await gateway.prepare(
                    action: SendMessageToGlobe.name,
                    account: change.account,
                    parameters: params,
                    nowMs: clock(),
                    optOutExempt: true
                )
                let fields = try await gateway.accept(result)
                if case .string(let code)? = fields.first(where: { $0.0 == "ResponseCode" })?.1, code != "OK" {
                    logger.warning(
                        "the opt-out confirmation was refused",
                        metadata: ["account": "\(change.account)", "code": "\(code)"]
                    )
                }
            } catch {
                logger.warning(
                    "the opt-out confirmation could not be sent",
                    metadata: ["account": "\(change.account)", "error": "\(error)"]
                )
            }
        }
    }
}
