import Foundation
import Logging
import PetrelCore
import PetrelStore
import Synchronization
import Testing

@testable import PetrelDelivery

/// The processor's bounds: a carrier chooses how many parts it sends and how long each is.
@Suite struct InboundProcessorTests {
    /// A store that remembers how many parts each `storeInbound` was given.
    final class Recording: InboundLog {
        let base: SQLiteStore
        let batches = Mutex<[Int]>([])
        /// A transaction holding a part with this body fails (a part the store refuses).
        let poison = Mutex<[UInt8]?>(nil)
        /// Every transaction fails (the store is down).
        let down = Mutex(false)
        init(_ base: SQLiteStore) { self.base = base }

        struct Refused: Error {}

        func storeInbound(_ parts: [InboundPart], rules: InboundRules, nowMs: Int64) async throws -> InboundStored {
            batches.withLock { $0.append(parts.count) }
            let bad = poison.withLock { $0 }
            if down.withLock({ $0 }) || parts.contains(where: { $0.body == bad }) { throw Refused() }
            return try await base.storeInbound(parts, rules: rules, nowMs: nowMs)
        }
        func releaseInboundParts(olderThanMs: Int64, rules: InboundRules, nowMs: Int64) async throws -> Int {
            try await base.releaseInboundParts(olderThanMs: olderThanMs, rules: rules, nowMs: nowMs)
        }
        func pruneInboundParts(beforeMs: Int64) async throws -> Int {
            try await base.pruneInboundParts(beforeMs: beforeMs)
        }
        func purgeInbound(receivedBeforeMs: Int64, limit: Int) async throws -> Int {
            try await base.purgeInbound(receivedBeforeMs: receivedBeforeMs, limit: limit)
        }
        func inboundMessages(account: String?, from: String?, limit: Int) async throws -> [InboundMessage] {
            try await base.inboundMessages(account: account, from: from, limit: limit)
        }
        func inboundWithPush(account: String, from: String?, limit: Int) async throws -> [InboundRow] {
            try await base.inboundWithPush(account: account, from: from, limit: limit)
        }
        func pendingInboundParts() async throws -> Int { try await base.pendingInboundParts() }
        func dueInbound(account: String, nowMs: Int64, limit: Int) async throws -> [OutboxInbound] {
            try await base.dueInbound(account: account, nowMs: nowMs, limit: limit)
        }
        func leaseInbound(ids: [Int64], nowMs: Int64, untilMs: Int64) async throws -> Set<Int64> {
            try await base.leaseInbound(ids: ids, nowMs: nowMs, untilMs: untilMs)
        }
        func inboundPushed(ids: [Int64], nowMs: Int64) async throws {
            try await base.inboundPushed(ids: ids, nowMs: nowMs)
        }
        func inboundRetry(_ retries: [ReceiptRetry]) async throws { try await base.inboundRetry(retries) }
        func parkInbound(ids: [Int64], error: String, nowMs: Int64) async throws {
            try await base.parkInbound(ids: ids, error: error, nowMs: nowMs)
        }
        func retryParkedInbound(account: String?, nowMs: Int64) async throws -> Int {
            try await base.retryParkedInbound(account: account, nowMs: nowMs)
        }
        func inboundOutboxCounts() async throws -> OutboxCounts { try await base.inboundOutboxCounts() }
    }

    func withProcessor(
        _ configuration: InboundProcessor.Configuration,
        _ body: (InboundProcessor, Recording) async throws -> Void
    ) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("petrel-mo-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = Recording(
            try SQLiteStore(directory: dir, secrets: try SecretBox(key: Array(repeating: 1, count: 32)))
        )
        let processor = InboundProcessor(
            store: store,
            configuration: configuration,
            logger: Logger(label: "test"),
            clock: { 1000 }
        )
        try await body(processor, store)
        try await store.base.close()
    }

    func part(_ n: Int, bytes: Int = 1) -> InboundPart {
        InboundPart(
            channel: "c",
            from: "85291234567",
            to: "85260001234",
            dataCoding: 4,
            body: Array(repeating: UInt8(truncatingIfNeeded: n), count: bytes) + withUnsafeBytes(of: n) { Array($0) },
            receivedAtMs: 1000
        )
    }

    /// A burst is written in transactions of `maxBatch` parts, not one transaction holding the writer for all of it.
    @Test func aBurstIsStoredInBoundedTransactions() async throws {
        var configuration = InboundProcessor.Configuration()
        configuration.maxBatch = 100
        try await withProcessor(configuration) { processor, store in
            let acks = Mutex<[Bool]>([])
            for n in 0..<250 { processor.submit(part(n)) { ok in acks.withLock { $0.append(ok) } } }
            await processor.flush()
            #expect(store.batches.withLock { $0 } == [100, 100, 50])
            #expect(acks.withLock { $0.count == 250 && $0.allSatisfy { $0 } })
            let stored = try await store.inboundMessages(account: nil, from: nil, limit: 1000)
            #expect(stored.count == 250)
        }
    }

    /// A part the store refuses fails only itself: the batch it came in is stored part by part, and the others
    /// are acknowledged (a failed transaction once failed every part batched with it, and every resend of them).
    @Test func onePartTheStoreRefusesFailsOnlyItself() async throws {
        try await withProcessor(InboundProcessor.Configuration()) { processor, store in
            store.poison.withLock { $0 = part(2).body }
            let acks = Mutex<[Int: Bool]>([:])
            for n in 0..<5 { processor.submit(part(n)) { ok in acks.withLock { $0[n] = ok } } }
            await processor.flush()
            #expect(acks.withLock { $0 } == [0: true, 1: true, 2: false, 3: true, 4: true])
            #expect(store.batches.withLock { $0 } == [5, 1, 1, 1, 1, 1])
            let stored = try await store.inboundMessages(account: nil, from: nil, limit: 10)
            #expect(stored.count == 4)
        }
    }

    /// A store that is down fails every part: after a few parts alone fail in a row, the rest of the batch is
    /// answered at once (the carrier resends), not tried one by one.
    @Test func aStoreThatIsDownIsNotTriedPartByPart() async throws {
        try await withProcessor(InboundProcessor.Configuration()) { processor, store in
            store.down.withLock { $0 = true }
            let acks = Mutex<[Bool]>([])
            for n in 0..<100 { processor.submit(part(n)) { ok in acks.withLock { $0.append(ok) } } }
            await processor.flush()
            #expect(acks.withLock { $0.count == 100 && !$0.contains(true) })
            #expect(store.batches.withLock { $0 } == [100] + Array(repeating: 1, count: InboundProcessor.aloneTries))
        }
    }

    /// More fingerprints past the window than one round deletes (10 000): all go in one prune, not one round a
    /// minute, which fell behind a carrier sending more.
    @Test func pruningKeepsUpWithAFlood() async throws {
        try await withProcessor(InboundProcessor.Configuration()) { processor, store in
            let parts = (0..<10_500).map { part($0) }
            _ = try await store.storeInbound(parts, rules: InboundRules(), nowMs: 1000)
            await processor.prune(nowMs: 1000 + 301_000)
            #expect(try await store.pruneInboundParts(beforeMs: 1_000_000) == 0)
        }
    }

    /// Queued bytes are bounded as well as parts: beyond, the carrier is answered with an error at once (it resends),
    /// and the room comes back once the queue is stored.
    @Test func queuedBytesAreBounded() async throws {
        var configuration = InboundProcessor.Configuration()
        configuration.maxQueuedBytes = 3 * 65_000
        try await withProcessor(configuration) { processor, _ in
            let acks = Mutex<[Int: Bool]>([:])
            for n in 0..<4 { processor.submit(part(n, bytes: 64_000)) { ok in acks.withLock { $0[n] = ok } } }
            #expect(acks.withLock { $0 } == [3: false])
            await processor.flush()
            #expect(acks.withLock { $0 } == [0: true, 1: true, 2: true, 3: false])
            processor.submit(part(3, bytes: 64_000)) { ok in acks.withLock { $0[3] = ok } }
            await processor.flush()
            #expect(acks.withLock { $0[3] } == true)
        }
    }
}
