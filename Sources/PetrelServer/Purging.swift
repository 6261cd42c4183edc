import CoreMetrics
import Foundation
public import Logging
import PetrelCore
public import PetrelStore
import ServiceLifecycle

/// The background purge: every `retention.every` a round visits each account and deletes (or redacts) what is past
/// its retention, in transactions of `retention.batch` rows, resting between them (`Purge.restFactor`), until
/// nothing is left. Every node of a shared store runs it; the store makes sure two nodes never take the same rows.
struct Purging: Service {
    let store: any Retention
    let configuration: RetentionConfiguration
    let logger: Logger
    let clock: @Sendable () -> Int64

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let counts = try await Purge(store: store, batch: configuration.batch).round(
                        configuration,
                        nowMs: clock()
                    )
                    if counts.messages > 0 {
                        logger.info(
                            "purged messages past their retention",
                            metadata: ["messages": "\(counts.messages)", "receipts": "\(counts.receipts)"]
                        )
                    }
                } catch is CancellationError {
                    return
                } catch {
                    logger.storeFailure("cannot purge", error)
                }
                try? await Task.sleep(for: .milliseconds(configuration.everyMs))
            }
        }
    }
}

/// Purging in batches, for the background rounds and `petrel purge`.
public struct Purge: Sendable {
    let store: any Retention
    let batch: Int
    /// After each batch the purge rests this many times as long as the batch took: at 3 it works at most a quarter
    /// of the time, leaving the writer (SQLite's one thread) and the CPU to the accept path. At full speed, purging
    /// a million messages took batch accept to 0.70 of its rate while it ran (bench/purge.sh).
    static let restFactor = 3.0
    /// When the store has one writer, the purge then rests up to this many times longer again, in proportion to
    /// the share of the first rest that writer spent on other work: under load the purge yields (a twentieth of the
    /// time at most when the writer was busy throughout); idle, it keeps its pace.
    static let busyRestFactor = 16.0

    /// Counts messages purged on `/metrics` (made once, after the metrics system is bootstrapped).
    private static let purgedCounter = CoreMetrics.Counter(label: "petrel_messages_purged_total")

    public init(store: any Retention, batch: Int) {
        self.store = store
        self.batch = batch
    }

    /// One round: for each account, outbox rows and messages past `messages`, texts past `texts` and of the
    /// `redactOnFinal` types, sandbox rows and finished campaigns. Returns the messages and receipts purged.
    func round(_ c: RetentionConfiguration, nowMs: Int64) async throws -> PurgeCounts {
        var total = PurgeCounts()
        for account in try await store.retentionAccounts() {
            let r = c.rules(for: account)
            total = total + (try await messages(account: account, finishedBeforeMs: nowMs - r.messagesMs))
            // Texts past `texts` (when that is sooner than the message goes), then those of the types redacted
            // once final.
            let textCutoffs: [(MessageType, Int64)] =
                (r.textsMs < r.messagesMs ? MessageType.allCases.map { ($0, nowMs - r.textsMs) } : [])
                + r.redactOnFinal.map { ($0, .max) }
            for (type, cutoff) in textCutoffs {
                _ = try await drain {
                    try await store.redactTexts(account: account, type: type, finishedBeforeMs: cutoff, limit: $0)
                }
            }
            _ = try await drain {
                try await store.purgeSandbox(account: account, receivedBeforeMs: nowMs - r.sandboxInboxMs, limit: $0)
            }
            _ = try await drain {
                try await store.purgeCampaigns(account: account, updatedBeforeMs: nowMs - r.campaignsMs, limit: $0)
            }
            // Counters by hour of acceptance: an hour goes once its messages' retention has passed since its end.
            _ = try await drain {
                try await store.purgeStatistics(
                    account: account,
                    hourBeforeMs: nowMs - r.messagesMs - StatsSQL.hourMs,
                    limit: $0
                )
            }
        }
        return total
    }

    /// Deletes every final message of `account` finished before `finishedBeforeMs` with its parts, events and
    /// outbox rows (the outbox first, so the receipt pusher never meets a row whose message is gone).
    public func messages(account: String, finishedBeforeMs: Int64) async throws -> PurgeCounts {
        var counts = PurgeCounts()
        counts.receipts = try await drain {
            try await store.purgeOutbox(account: account, createdBeforeMs: finishedBeforeMs, limit: $0)
        }
        while true {
            let started = ContinuousClock.now
            let done = try await store.purgeMessages(account: account, finishedBeforeMs: finishedBeforeMs, limit: batch)
            counts = counts + done
            Self.purgedCounter.increment(by: done.messages)
            if done.messages < batch { break }
            try await rest(after: started)
        }
        // Conversion reports are about messages: they go with them.
        counts.conversions = try await drain {
            try await store.purgeConversions(account: account, receivedBeforeMs: finishedBeforeMs, limit: $0)
        }
        return counts
    }

    /// Calls `step` with the batch size until it changes fewer rows than that; returns the rows changed.
    private func drain(_ step: (Int) async throws -> Int) async throws -> Int {
        var total = 0
        while true {
            let started = ContinuousClock.now
            let n = try await step(batch)
            total += n
            if n < batch { return total }
            try await rest(after: started)
        }
    }

    /// Rests `restFactor` times as long as the batch begun at `started` took, then longer the busier the store's
    /// writer was meanwhile (throws when cancelled).
    private func rest(after started: ContinuousClock.Instant) async throws {
        let took = ContinuousClock.now - started
        let busyBefore = store.writerBusyNanoseconds
        let resting = ContinuousClock.now
        try await Task.sleep(for: took * Self.restFactor)
        guard let busyBefore, let busyAfter = store.writerBusyNanoseconds else { return }
        try await Task.sleep(
            for: Self.busyRest(took: took, busy: busyAfter &- busyBefore, of: ContinuousClock.now - resting)
        )
    }

    /// The rest after the first one: `busyRestFactor` times the batch's time, scaled by the share of `rested` that
    /// the writer spent `busy` (nanoseconds) on other work.
    static func busyRest(took: Duration, busy: UInt64, of rested: Duration) -> Duration {
        let wall = rested.nanoseconds
        guard wall > 0 else { return .zero }
        return took * (busyRestFactor * min(1, Double(busy) / Double(wall)))
    }
}

extension Duration {
    fileprivate var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
