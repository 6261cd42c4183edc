public import Logging
public import PetrelCore
public import PetrelStore
public import ServiceLifecycle
import Synchronization

/// Moves queued messages to their channels and applies the receipts that come back.
///
/// Each round: expire what outlived its ValidityPeriod, claim due messages (highest priority first) under a
/// lease, route and submit them, record the outcome, and apply scheduled receipts that are due. A message
/// whose lease runs out (a crash between claim and record) returns to the queue: delivery is at least once.
public final class Dispatcher: Service {
    public struct Configuration: Sendable {
        public var batchSize = 1000
        public var pollMs: Int64 = 100
        public var leaseMs: Int64 = 60_000
        public var retryDelayMs: Int64 = 1000
        /// After a wake-up, wait this long so one round takes what arrived together (fewer, larger transactions).
        public var lingerMs: Int64 = 5
        /// How often the queue is swept for expired messages and lost leases.
        public var sweepIntervalMs: Int64 = 1000

        public init() {}
    }

    let store: any MessageStore
    let channels: [String: any Channel]
    let router: MessageRouter
    let clock: @Sendable () -> Int64
    let logger: Logger
    let configuration: Configuration
    let wake = WakeSignal()
    private let lastSweep = Mutex<Int64>(0)

    public init(
        store: any MessageStore, channels: [any Channel], router: MessageRouter = MessageRouter(), configuration: Configuration = Configuration(),
        logger: Logger, clock: @escaping @Sendable () -> Int64
    ) {
        self.store = store
        var byId: [String: any Channel] = [:]
        for c in channels { byId[c.id] = c }
        self.channels = byId
        self.router = router
        self.configuration = configuration
        self.logger = logger
        self.clock = clock
    }

    /// New messages are waiting.
    public func notify() { wake.signal() }

    public func run() async throws {
        // Claims left by a previous run of this node: submit them again.
        let requeued = try await store.requeueExpiredLeases(nowMs: .max)
        if requeued > 0 { logger.info("requeued messages claimed before a restart", metadata: ["count": "\(requeued)"]) }
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    if try await self.round() { continue }
                } catch is CancellationError {
                    return
                } catch {
                    if Task.isCancelled { return }
                    self.logger.error("dispatch round failed", metadata: ["error": "\(error)"])
                }
                await self.wake.wait(timeoutMs: self.configuration.pollMs)
                try? await Task.sleep(for: .milliseconds(self.configuration.lingerMs))
            }
        }
    }

    /// One round; true when there may be more work right away.
    public func round() async throws -> Bool {
        let now = clock()
        var expired = 0
        if lastSweep.withLock({ last in
            guard now - last >= configuration.sweepIntervalMs else { return false }
            last = now
            return true
        }) {
            expired = try await store.expireQueued(nowMs: now).count
            _ = try await store.requeueExpiredLeases(nowMs: now)
        }
        let claimed = try await store.claim(limit: configuration.batchSize, nowMs: now, leaseMs: configuration.leaseMs)
        if !claimed.isEmpty { try await dispatch(claimed, nowMs: now) }
        let due = try await store.applyDueReceipts(nowMs: now, limit: configuration.batchSize)
        return claimed.count == configuration.batchSize || due.count == configuration.batchSize || expired >= 10_000
    }

    func dispatch(_ messages: [Message], nowMs: Int64) async throws {
        var byChannel: [String: [Message]] = [:]
        var unroutable: [StatusUpdate] = []
        var waiting: [Int64] = []
        for m in messages {
            // Never hand a message to a carrier after its validity ended, even if it was claimed just now.
            if let expiry = m.expiresAtMs, expiry <= nowMs {
                unroutable.append(StatusUpdate(
                    id: m.id, status: .expired, errorCode: "EXPIRED",
                    errorDescription: "The validity period ended before the message could be sent", atMs: nowMs))
                continue
            }
            let candidates = router.channels(for: m)
            if let channel = candidates.first(where: { channels[$0]?.isAvailable == true }) {
                byChannel[channel, default: []].append(m)
            } else if candidates.contains(where: { channels[$0] != nil }) {
                waiting.append(m.id)    // its channels exist but are down: keep it queued
            } else {
                unroutable.append(StatusUpdate(
                    id: m.id, status: .failed, errorCode: "NO_ROUTE",
                    errorDescription: "No configured channel can take this message", atMs: nowMs))
            }
        }
        var sent: [SentRecord] = []
        var inbox: [SandboxEntry] = []
        var failed = unroutable
        var retry: [Int64: Int64] = [:]
        for (channelId, batch) in byChannel {
            guard let channel = channels[channelId] else { continue }
            let outcomes = await channel.submit(batch, nowMs: nowMs)
            for (m, outcome) in zip(batch, outcomes) {
                switch outcome {
                case .sent(let record, let entry):
                    sent.append(record)
                    if let entry { inbox.append(entry) }
                case .retry(let after):
                    retry[m.id] = nowMs + after
                case .failed(let code, let description):
                    failed.append(StatusUpdate(id: m.id, status: .failed, errorCode: code, errorDescription: description, atMs: nowMs))
                }
            }
        }
        try await store.markSent(sent, sandbox: inbox)
        if !failed.isEmpty { try await store.apply(failed) }
        if !waiting.isEmpty { try await store.requeue(ids: waiting, notBeforeMs: nowMs + configuration.retryDelayMs) }
        for (at, ids) in Dictionary(grouping: retry.keys, by: { retry[$0]! }) {
            try await store.requeue(ids: ids, notBeforeMs: at)
        }
    }
}
