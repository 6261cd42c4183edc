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
            let shown = try await a.rows(
                "SELECT current_setting('lock_timeout') || ' ' || current_setting('idle_in_transaction_session_timeout')"
            ) { try $0.get(0, as: String.self) }
            #expect(shown == ["10s 1min"])
        }
    }

    /// A group decided in memory takes its nonces before the account's head: a replay that waits on another
    /// node's uncommitted nonce holds no head meanwhile, so that node can still move the head (before, the two
    /// waited on each other until PostgreSQL's deadlock detector aborted one, a second later).
    @Test func aGroupWaitingOnANonceHoldsNoHead() async throws {
        try await withTwoNodes { a, b in
            #expect(try await a.commit(send(1), limits: tenADay) == [nil])
            let nonce = NonceRecord(hash: 4242, expiresAtMs: now + 900_000)
            let held = AsyncStream<Void>.makeStream()
            let release = AsyncStream<Void>.makeStream()
            // Node b: the nonce, not yet committed (the same signed request arriving there first).
            let other = Task {
                try await b.client.withTransaction(logger: b.logger) { c in
                    _ = try await c.query("INSERT INTO nonces (hash, expires_at) VALUES (4242, 0)", logger: b.logger)
                    held.continuation.yield()
                    for await _ in release.stream { break }
                    // Node b now moves the account's head (a send of its own), while node a's replay waits.
                    // Shorter than PostgreSQL's deadlock_timeout (1 s), which would otherwise break a deadlock first.
                    _ = try await c.query("SET LOCAL lock_timeout = '500ms'", logger: b.logger)
                    _ = try await c.query(
                        "UPDATE limit_heads SET seq = seq WHERE account = 'acme'",
                        logger: b.logger
                    )
                    throw CancellationError()  // roll back: the nonce was never used
                }
            }
            for await _ in held.stream { break }
            var replay = send(2)
            replay.nonce = nonce
            let replayed = Task { try await a.commit(replay, limits: tenADay) }
            try await Task.sleep(for: .milliseconds(300))  // a's statement is now waiting on the nonce
            release.continuation.yield()
            let result = await other.result
            do {
                try result.get()
            } catch let e as PostgresTransactionError where e.closureError is CancellationError {
                // The head moved within the lock wait: a's waiting statement did not hold it.
            } catch {
                Issue.record("node b could not move the head while a's statement waited on the nonce: \(error)")
            }
            // b rolled back: the nonce is free, and a's send goes through.
            #expect(try await replayed.value == [nil])
        }
    }

    /// A session the server ended while its transaction was idle (a timeout here; a restart, a failover or
    /// pg_terminate_backend elsewhere) fails the transaction at its next statement instead of hanging the node.
    @Test func aTransactionWhoseSessionTheServerEndedFailsInsteadOfHanging() async throws {
        try await withTwoNodes { a, _ in
            let attempt = Task {
                try await a.transaction { c in
                    try await a.run("SET LOCAL idle_in_transaction_session_timeout = '300ms'", on: c)
                    try await Task.sleep(for: .seconds(1))  // the node stalls; the server ends its session
                }
            }
            let outcome = await withTaskGroup(of: String.self) { g in
                g.addTask {
                    switch await attempt.result {
                    case .success: return "committed"
                    case .failure(let e): return StoreErrorText.sentence(e)
                    }
                }
                g.addTask {
                    try? await Task.sleep(for: .seconds(10))
                    return "hung"
                }
                let first = await g.next() ?? "hung"
                g.cancelAll()
                return first
            }
            #expect(outcome.contains("lost the connection to PostgreSQL"), "\(outcome)")
            // The pool opens another connection: the node goes on.
            let one = try await a.rows("SELECT 1") { try $0.get(0, as: Int32.self) }
            #expect(one == [1])
        }
    }
}
