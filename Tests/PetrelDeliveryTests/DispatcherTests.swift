import Foundation
import Logging
import PetrelCore
import PetrelStore
import Testing

@testable import PetrelDelivery

@Suite struct DispatcherTests {
    final class Clock: @unchecked Sendable {
        let lock = NSLock()
        var value: Int64 = 1_000_000
        var now: Int64 {
            get { lock.withLock { value } }
            set { lock.withLock { value = newValue } }
        }
    }

    func withDispatcher(
        batchSize: Int = 1000,
        _ body: (Dispatcher, SQLiteStore, Clock) async throws -> Void
    ) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("petrel-dispatch-\(UUID().uuidString)")
            .path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try SQLiteStore(directory: dir, secrets: try SecretBox(key: Array(repeating: 3, count: 32)))
        let clock = Clock()
        var config = Dispatcher.Configuration()
        config.batchSize = batchSize
        let sandbox = SandboxChannel(configuration: .init(deliveryDelayMs: 100, slowDelayMs: 1000))
        let dispatcher = Dispatcher(
            store: store,
            channels: [sandbox],
            configuration: config,
            logger: Logger(label: "test"),
            clock: { clock.now }
        )
        do {
            try await body(dispatcher, store, clock)
        } catch {
            try? await store.close()
            throw error
        }
        try await store.close()
    }

    func msg(
        _ id: Int64,
        to: String,
        type: MessageType = .notify,
        single: Bool = true,
        expiresAtMs: Int64? = nil,
        channel: String = ""
    ) -> Message {
        Message(
            id: id,
            account: "a",
            to: to,
            text: "t\(id)",
            type: type,
            requestedChannel: channel,
            priority: Priority(type: type, single: single),
            createdAtMs: 1_000_000,
            expiresAtMs: expiresAtMs
        )
    }

    @Test func sandboxOutcomesByNumberEnding() async throws {
        try await withDispatcher { d, store, clock in
            try await store.commit(
                WriteBatch(messages: [
                    msg(1, to: "85291234567"), msg(2, to: "85291234666"), msg(3, to: "85291234777"),
                    msg(4, to: "85291234555"),
                ])
            )
            _ = try await d.round()
            _ = try await d.round()  // records what the channel reported
            #expect(try await store.counts()[.sent] == 4)
            clock.now += 100
            _ = try await d.round()
            #expect(try await store.message(id: 1, account: "a")?.status == .delivered)
            let failed = try #require(try await store.message(id: 2, account: "a"))
            #expect(failed.status == .failed && failed.errorCode == "UNDELIV")
            #expect(try await store.message(id: 3, account: "a")?.status == .expired)
            #expect(try await store.message(id: 4, account: "a")?.status == .sent)
            clock.now += 900
            _ = try await d.round()
            #expect(try await store.message(id: 4, account: "a")?.status == .delivered)
            #expect(try await store.sandboxMessages(to: nil, limit: 10).count == 4)
        }
    }

    @Test func expiredMessagesAreNeverHandedToTheCarrier() async throws {
        try await withDispatcher { d, store, clock in
            try await store.commit(
                WriteBatch(messages: [
                    msg(1, to: "85291234567", expiresAtMs: clock.now - 1),
                    msg(2, to: "85291234567", expiresAtMs: clock.now + 60_000),
                ])
            )
            _ = try await d.round()
            _ = try await d.round()
            let expired = try #require(try await store.message(id: 1, account: "a"))
            #expect(expired.status == .expired && expired.sentAtMs == nil)
            #expect(try await store.sandboxMessages(to: nil, limit: 10).map(\.messageId) == [2])
        }
    }

    @Test func urgentMessagesGoFirst() async throws {
        try await withDispatcher(batchSize: 2) { d, store, _ in
            try await store.commit(
                WriteBatch(messages: (1...5).map { msg($0, to: "85291234567", type: .mkt, single: false) })
            )
            try await store.commit(WriteBatch(messages: [msg(10, to: "85291234567", type: .otp)]))
            #expect(try await d.round())  // a full batch: more may wait
            _ = try await store.record(DispatchResults())
            try await d.recordReported()
            let sent = try await store.sandboxMessages(to: nil, limit: 10).map(\.messageId)
            #expect(sent.contains(10) && sent.count == 2)
        }
    }

    @Test func unknownChannelFailsTheMessage() async throws {
        try await withDispatcher { d, store, _ in
            try await store.commit(WriteBatch(messages: [msg(1, to: "85291234567", channel: "gone")]))
            _ = try await d.round()
            let m = try #require(try await store.message(id: 1, account: "a"))
            #expect(m.status == .failed && m.errorCode == "NO_ROUTE")
        }
    }

    @Test func claimsLeftByACrashAreResubmitted() async throws {
        try await withDispatcher { d, store, clock in
            try await store.commit(WriteBatch(messages: [msg(1, to: "85291234567")]))
            _ = try await store.claim(limit: 10, nowMs: clock.now, leaseMs: 60_000)  // then the process "dies"
            #expect(try await store.requeueExpiredLeases(nowMs: .max) == 1)  // what run() does at start
            _ = try await d.round()
            _ = try await d.round()
            #expect(try await store.message(id: 1, account: "a")?.status == .sent)
        }
    }

    @Test func wakeSignal() async {
        let w = WakeSignal()
        w.signal()
        await w.wait(timeoutMs: 10_000)  // returns at once: a signal was pending
        let start = ContinuousClock.now
        await w.wait(timeoutMs: 50)
        #expect(ContinuousClock.now - start >= .milliseconds(45))
    }
}
