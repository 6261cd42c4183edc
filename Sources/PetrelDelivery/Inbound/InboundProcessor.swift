public import Logging
public import PetrelCore
public import PetrelStore
public import ServiceLifecycle
import Synchronization

/// Stores inbound parts in batches and acknowledges each once its batch is durable (the carrier resends what was not
/// acknowledged, so nothing is lost and nothing is acknowledged before it is on disk). Once a second it releases
/// parts whose siblings did not come within `partWaitMs`; once a minute it forgets fingerprints past the duplicate
/// window.
public final class InboundProcessor: Service {
    public struct Configuration: Sendable {
        public var rules = InboundRules()
        /// How long a part waits for its siblings before it is delivered (with those that came), incomplete.
        public var partWaitMs: Int64 = 60_000
        /// `inbound:` destinations (prefixes) and their accounts; the longest matching prefix wins.
        public var routes: [(prefix: String, account: String)] = []
        /// Parts received and not yet stored, at most; beyond, the carrier is answered with an error and resends.
        public var maxQueued = 50_000
        /// Their bytes, at most: a carrier chooses each part's length (up to a 64 KB message_payload), and 50 000 of
        /// those would be 3 GB held in memory.
        public var maxQueuedBytes = 64 << 20
        /// Parts stored per transaction: a carrier's burst is written in several, so the store's writer is never
        /// held for all of it at once (the accept path waits behind it).
        public var maxBatch = 1000
        /// Inbound messages are deleted this long after they came (pushed or not).
        public var keepMs: Int64 = 30 * 86_400_000

        public init() {}

        /// The account `inbound:` gives `destination`, if any.
        public func account(for destination: String) -> String? {
            routes.filter { destination.hasPrefix($0.prefix) }.max { $0.prefix.count < $1.prefix.count }?.account
        }
    }

    private struct Pending {
        let part: InboundPart
        let ack: @Sendable (Bool) -> Void
    }

    let store: any InboundLog
    let configuration: Configuration
    let logger: Logger
    let clock: @Sendable () -> Int64
    private let pending = Mutex<(parts: [Pending], bytes: Int)>(([], 0))
    private let wake = WakeSignal()
    private let counters = Mutex<(parts: Int, messages: Int, duplicates: Int)>((0, 0, 0))
    private let optOutHandler = Mutex<(@Sendable ([OptOutChange]) -> Void)?>(nil)

    public init(
        store: any InboundLog,
        configuration: Configuration,
        logger: Logger,
        clock: @escaping @Sendable () -> Int64
    ) {
        self.store = store
        self.configuration = configuration
        self.logger = logger
        self.clock = clock
    }

    public var stats: (parts: Int, messages: Int, duplicates: Int) { counters.withLock { $0 } }

    /// Called with the lists that stored messages changed (opt-out keywords), once they are durable.
    public func onOptOut(_ handler: @escaping @Sendable ([OptOutChange]) -> Void) {
        optOutHandler.withLock { $0 = handler }
    }

    /// Queues a part for the next batch; `ack(true)` once it is durable, `ack(false)` when it is not stored (the
    /// store failed, or too many parts wait already): the carrier is then told to send it again.
    public func submit(_ part: InboundPart, ack: @escaping @Sendable (Bool) -> Void) {
        var part = part
        if part.account == nil { part.account = configuration.account(for: part.to) }
        let queued = pending.withLock { p -> Bool in
            guard p.parts.count < configuration.maxQueued,
                p.bytes + part.body.count <= configuration.maxQueuedBytes
            else { return false }
            p.parts.append(Pending(part: part, ack: ack))
            p.bytes += part.body.count
            return true
        }
        guard queued else {
            ack(false)
            return
        }
        wake.signal()
    }

    /// `submit`, awaited: true once the part is durable.
    public func store(_ part: InboundPart) async -> Bool {
        await withCheckedContinuation { c in submit(part) { c.resume(returning: $0) } }
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var lastRelease = self.clock()
            var lastPrune = self.clock()
            while !Task.isCancelled {
                await self.wake.wait(timeoutMs: 1000)
                await self.flush()
                let now = self.clock()
                if now - lastRelease >= 1000 {
                    lastRelease = now
                    await self.releaseStale(nowMs: now)
                }
                if now - lastPrune >= 60_000 {
                    lastPrune = now
                    await self.prune(nowMs: now)
                    await self.purge(nowMs: now)
                }
            }
        }
        await flush()
    }

    /// Fingerprints past the duplicate window, until none is left (at most a hundred rounds a minute): one round of
    /// ten thousand a minute fell behind a carrier sending more, and the parts table grew without end.
    func prune(nowMs: Int64) async {
        for _ in 0..<100 {
            guard
                let n = try? await store.pruneInboundParts(beforeMs: nowMs - configuration.rules.duplicateWindowMs),
                n >= 10_000
            else { return }
        }
    }

    /// Messages past `keepMs`, a thousand per transaction, at most a hundred thousand a minute.
    func purge(nowMs: Int64) async {
        for _ in 0..<100 {
            guard let n = try? await store.purgeInbound(receivedBeforeMs: nowMs - configuration.keepMs, limit: 1000),
                n == 1000
            else { return }
        }
    }

    func releaseStale(nowMs: Int64) async {
        do {
            let made = try await store.releaseInboundParts(
                olderThanMs: nowMs - configuration.partWaitMs,
                rules: configuration.rules,
                nowMs: nowMs
            )
            if made > 0 {
                counters.withLock { $0.messages += made }
                DeliveryMetrics.inboundStored(parts: 0, messages: made, duplicates: 0)
                logger.info("inbound parts delivered without their siblings", metadata: ["messages": "\(made)"])
            }
        } catch {
            logger.storeFailure("cannot release waiting inbound parts", error)
        }
    }

    /// Stores what is queued, `maxBatch` parts per transaction; what comes meanwhile waits for the next call (a flood
    /// does not keep the loop from releasing stale parts).
    public func flush() async {
        let size = max(configuration.maxBatch, 1)
        var rounds = pending.withLock { $0.parts.count } / size + 1
        while rounds > 0 {
            rounds -= 1
            let batch = pending.withLock { p -> [Pending] in
                let n = min(p.parts.count, size)
                let batch = Array(p.parts.prefix(n))
                p.parts.removeFirst(n)
                p.bytes -= batch.reduce(0) { $0 + $1.part.body.count }
                return batch
            }
            guard !batch.isEmpty else { return }
            await write(batch)
        }
    }

    /// Parts stored alone that may fail in a row before the rest of a failed batch is answered at once: a store
    /// that is down fails them all, and trying a thousand parts one by one would only delay the answers.
    static let aloneTries = 5

    /// One transaction for the batch; when it fails, each part alone, so that one part the store refuses does not
    /// fail the others (they were answered with an error, resent with it, and failed again, for ever).
    private func write(_ batch: [Pending]) async {
        do {
            try await store(batch)
        } catch {
            logger.storeFailure("cannot store inbound messages", error)
            guard batch.count > 1 else { return batch[0].ack(false) }
            var failedInARow = 0
            for (i, p) in batch.enumerated() {
                guard failedInARow < Self.aloneTries else {
                    for rest in batch[i...] { rest.ack(false) }
                    return
                }
                do {
                    try await store([p])
                    failedInARow = 0
                } catch {
                    failedInARow += 1
                    p.ack(false)
                }
            }
        }
    }

    /// Stores `batch` in one transaction and acknowledges its parts; throws (acknowledging none) when it fails.
    private func store(_ batch: [Pending]) async throws {
        let stored = try await store.storeInbound(batch.map(\.part), rules: configuration.rules, nowMs: clock())
        counters.withLock {
            $0.parts += batch.count
            $0.messages += stored.messages
            $0.duplicates += stored.duplicates
        }
        DeliveryMetrics.inboundStored(parts: batch.count, messages: stored.messages, duplicates: stored.duplicates)
        for p in batch { p.ack(true) }
        if stored.optOutsRefused > 0 {
            logger.error(
                "opt-out keywords changed no suppression list: the lists hold optOut.maxPhones phones",
                metadata: ["refused": "\(stored.optOutsRefused)"]
            )
        }
        if !stored.optOuts.isEmpty, let handler = optOutHandler.withLock({ $0 }) { handler(stored.optOuts) }
    }
}
