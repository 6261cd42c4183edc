import Foundation
import PetrelCore
import PostgresNIO
import Testing

@testable import PetrelStore

/// A node that stops in the middle of a transaction holds its row locks: the other nodes' sends fail in words after
/// the lock wait instead of hanging, and go through again once the lock is given back.
@Suite struct LockWaitTests {
    let now: Int64 = 1_800_000_000_000
    let tenADay = NumberLimits(byType: [.otp: WindowCounts(day: 10)])

    func send(_ id: Int64) -> WriteBatch {
        WriteBatch(messages: [message(id, type: .otp, createdAtMs: now + id)])
    }

    @Test func aStalledNodesLockFailsSendsInTimeNotForever() async throws {
        try await withTwoNodes(lockWait: .seconds(1)) { a, b in
            #expect(try await a.commit(send(1), limits: tenADay) == [nil])
            // Node b takes the account's head and stalls inside its transaction for 5 s.
            let locked = AsyncStream<Void>.makeStream()
            let stalled = Task {
                defer { locked.continuation.finish() }
                try await b.client.withTransaction(logger: b.logger) { c in
                    _ = try await c.query(
                        "SELECT seq FROM limit_heads WHERE account = 'acme' FOR UPDATE",
                        logger: b.logger
                    )
                    locked.continuation.yield()
                    try await Task.sleep(for: .seconds(5))
                }
            }
            for await _ in locked.stream { break }
            let started = ContinuousClock.now
            do {
                _ = try await a.commit(send(2), limits: tenADay)
                Issue.record("a send went through a head another node holds")
            } catch {
                #expect(StoreErrorText.sentence(error).contains("stayed locked by another transaction"), "\(error)")
            }
            #expect(ContinuousClock.now - started < .seconds(4), "the send waited past the lock wait")
            try await stalled.value
            #expect(try await a.commit(send(3), limits: tenADay) == [nil])
        }
    }

    @Test func everySessionCarriesTheBound() async throws {
        try await withTwoNodes { a, _ in
            let shown = try await a.rows("SELECT current_setting('lock_timeout')") { try $0.get(0, as: String.self) }
            #expect(shown == ["10s"])
        }
    }
}
