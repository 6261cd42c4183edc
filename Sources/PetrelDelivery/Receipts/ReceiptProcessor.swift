public import Logging
public import PetrelCore
public import PetrelStore
public import ServiceLifecycle
import Synchronization

/// Applies carrier receipts to the store in batches and acknowledges each once its batch is committed.
public final class ReceiptProcessor: Service {
    private struct Pending {
        let receipt: CarrierReceipt
        let ack: @Sendable (Bool) -> Void
    }

    let store: any ReceiptLedger
    let logger: Logger
    let clock: @Sendable () -> Int64
    private let pending = Mutex<[Pending]>([])
    private let wake = WakeSignal()
    /// Orphaned receipts are kept this long for a late submit_sm_resp, then counted as unknown and dropped.
    let orphanTTLMs: Int64
    /// After this long an orphan is tried under other readings of its id (hex for decimal and back).
    let orphanGraceMs: Int64
    /// How each channel's receipts quote ids, once learned from orphans matched under another reading.
    private let readings = Mutex<[String: CarrierID.Reading]>([:])
    private let counters = Mutex<(matched: Int, orphaned: Int, dropped: Int)>((0, 0, 0))
    /// Called with the messages that reached a final state.
    let onFinished: @Sendable ([StatusUpdate]) -> Void
    /// Awaited before each batch is applied (`Dispatcher.waitForRecords`): the records of the messages the
    /// batch's receipts name, reported before the receipts arrived, commit first.
    private let barrier = Mutex<(@Sendable ([CarrierReceipt]) async -> Void)?>(nil)

    public init(
        store: any ReceiptLedger,
        logger: Logger,
        orphanTTLMs: Int64 = 600_000,
        orphanGraceMs: Int64 = 10_000,
        clock: @escaping @Sendable () -> Int64,
        onFinished: @escaping @Sendable ([StatusUpdate]) -> Void = { _ in }
    ) {
        self.store = store
        self.logger = logger
        self.orphanTTLMs = orphanTTLMs
        self.orphanGraceMs = orphanGraceMs
        self.clock = clock
        self.onFinished = onFinished
    }

    public var stats: (matched: Int, orphaned: Int, dropped: Int) { counters.withLock { $0 } }

    /// Sets what each batch waits for before it is applied (set once, when the dispatcher exists).
    public func waitBeforeApplying(_ wait: @escaping @Sendable ([CarrierReceipt]) async -> Void) {
        barrier.withLock { $0 = wait }
    }

    /// How `channel`'s receipts quote ids, as far as learned.
    public func reading(for channel: String) -> CarrierID.Reading {
        readings.withLock { $0[channel] ?? .same }
    }

    /// Queues a receipt for the next batch. Its id is bounded and normalised here, before the store's writer
    /// sees it: an id longer than `CarrierID.maxLength` cannot name a stored message, so the receipt is
    /// acknowledged (the carrier must not resend it forever) and dropped.
    public func submit(_ receipt: CarrierReceipt, ack: @escaping @Sendable (Bool) -> Void) {
        guard let id = CarrierID.accepted(receipt.carrierId) else {
            counters.withLock { $0.dropped += 1 }
            logger.warning(
                "receipt refused: its message id is longer than \(CarrierID.maxLength) bytes",
                metadata: ["channel": "\(receipt.channel)", "bytes": "\(receipt.carrierId.utf8.count)"]
            )
            ack(true)
            return
        }
        var receipt = receipt
        receipt.carrierId = id
        pending.withLock { $0.append(Pending(receipt: receipt, ack: ack)) }
        wake.signal()
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var lastDrop = self.clock()
            var lastResolve = self.clock()
            while !Task.isCancelled {
                await self.wake.wait(timeoutMs: 1000)
                await self.flush()
                if self.clock() - lastResolve >= 1000 {
                    lastResolve = self.clock()
                    await self.resolveOrphans()
                }
                if self.clock() - lastDrop > 60_000 {
                    lastDrop = self.clock()
                    if let dropped = try? await self.store.dropOrphanReceipts(beforeMs: lastDrop - self.orphanTTLMs),
                        dropped > 0
                    {
                        self.counters.withLock { $0.dropped += dropped }
                        self.logger.warning(
                            "receipts for unknown message ids dropped",
                            metadata: ["count": "\(dropped)"]
                        )
                    }
                }
            }
        }
        await flush()
    }

    /// Matches old orphans under other readings and learns a channel's reading from consistent evidence.
    func resolveOrphans() async {
        guard let results = try? await store.resolveOrphans(beforeMs: clock() - orphanGraceMs), results.matched > 0
        else { return }
        if !results.finished.isEmpty { onFinished(results.finished) }
        for (channel, evidence) in results.readings {
            guard evidence.count == 1, let (reading, count) = evidence.first, count >= 3 else { continue }
            let changed = readings.withLock { r -> Bool in
                defer { r[channel] = reading }
                return r[channel] != reading
            }
            if changed {
                logger.info(
                    "receipts quote message ids differently",
                    metadata: ["channel": "\(channel)", "reading": "\(reading.rawValue)"]
                )
            }
        }
    }

    public func flush() async {
        let batch = pending.withLock { p -> [Pending] in
            defer { p.removeAll(keepingCapacity: true) }
            return p
        }
        guard !batch.isEmpty else { return }
        // After the batch is taken: what it waits for covers every outcome reported before its receipts arrived
        // (a receipt arriving meanwhile goes in the next batch, which may wait again).
        if let wait = barrier.withLock({ $0 }) { await wait(batch.map(\.receipt)) }
        do {
            let results = try await store.applyReceipts(batch.map(\.receipt))
            counters.withLock {
                $0.matched += results.matched
                $0.orphaned += results.orphaned
            }
            if results.orphaned > 0 {
                logger.info("receipts for ids not (yet) known", metadata: ["count": "\(results.orphaned)"])
            }
            if !results.finished.isEmpty { onFinished(results.finished) }
            for p in batch { p.ack(true) }
        } catch {
            logger.error("storing receipts failed", metadata: ["error": "\(error)"])
            for p in batch { p.ack(false) }
        }
    }
}
