import Foundation
import PetrelCore
import PostgresNIO
import Testing

@testable import PetrelStore

/// PostgreSQL counts `limits.perNumber` sends in each node's memory and carries them between nodes through
/// `send_log` (PostgresSendMemory): exact across nodes, past the memory bound, and for sends older versions counted.
@Suite struct SharedSendLogTests {
    let now: Int64 = 1_800_000_000_000
    let twoADay = NumberLimits(byType: [.otp: WindowCounts(day: 2)])
    let oneADay = NumberLimits(byType: [.otp: WindowCounts(day: 1)])

    func send(_ id: Int64, to: String = "85291234567", at offset: Int64 = 0) -> WriteBatch {
        WriteBatch(messages: [message(id, to: to, type: .otp, createdAtMs: now + offset)])
    }

    @Test func eachNodeCountsTheOthersSendsInTurn() async throws {
        try await withTwoNodes { a, b in
            #expect(try await a.commit(send(1), limits: twoADay) == [nil])
            #expect(try await b.commit(send(2, at: 1), limits: twoADay) == [nil])
            // Each has counted its own in memory; the other's comes from the log.
            #expect(try await a.commit(send(3, at: 2), limits: twoADay).map { $0?.code } == ["isv.BUSINESS_LIMIT_DAY"])
            #expect(try await b.commit(send(4, at: 3), limits: twoADay).map { $0?.code } == ["isv.BUSINESS_LIMIT_DAY"])
            // Another number is not held by these, on either node; the preview reads the same counts.
            #expect(try await b.commit(send(5, to: "85291234568", at: 4), limits: twoADay) == [nil])
            let counted = try await a.countedSends(
                account: "acme",
                recipients: ["85291234567", "85291234568"],
                sinceMs: now - 1
            )
            #expect(counted["85291234567"]?.count == 2 && counted["85291234568"]?.count == 1)
        }
    }

    @Test func aNodeWhoseMemoryIsFullStillCountsExactly() async throws {
        // Memory holds one send: the rest are read from the log on the database.
        try await withTwoNodes(trackedSends: 1) { a, b in
            let numbers = (0..<4).map { "8529123450\($0)" }
            for (i, to) in numbers.enumerated() {
                #expect(try await a.commit(send(Int64(i + 1), to: to), limits: twoADay) == [nil])
            }
            for (i, to) in numbers.enumerated() {
                #expect(try await b.commit(send(Int64(i + 11), to: to, at: 1), limits: twoADay) == [nil])
            }
            for (i, to) in numbers.enumerated() {
                let outcome = try await a.commit(send(Int64(i + 21), to: to, at: 2), limits: twoADay)
                #expect(outcome.map { $0?.code } == ["isv.BUSINESS_LIMIT_DAY"])
            }
            // A sweep empties memory that was not complete; it is read again, still exact.
            _ = try await a.pruneSendCounts(beforeMs: now - 1)
            let outcome = try await a.commit(send(31, to: numbers[0], at: 3), limits: twoADay)
            #expect(outcome.map { $0?.code } == ["isv.BUSINESS_LIMIT_DAY"])
        }
    }

    @Test func sendsAnOlderVersionCountedStillCount() async throws {
        try await withTwoNodes { a, _ in
            // Versions before the log counted one row per send in send_counts.
            try await a.run(
                """
                INSERT INTO send_counts (account, recipient, type, at)
                VALUES ('acme', '85291234567', 'OTP', \(now - 10)), ('acme', '85291234567', 'OTP', \(now - 5))
                """
            )
            #expect(try await a.commit(send(1), limits: twoADay).map { $0?.code } == ["isv.BUSINESS_LIMIT_DAY"])
            #expect(try await a.commit(send(2, to: "85291234568"), limits: twoADay) == [nil])
            // Pruned past their day, they no longer count.
            _ = try await a.pruneSendCounts(beforeMs: now)
            #expect(try await a.commit(send(3, at: 1), limits: twoADay) == [nil])
        }
    }

    @Test func aNodeOpenedLaterReadsTheWholeLog() async throws {
        try await withTwoNodes { a, b in
            for i in 0..<2 {
                let outcome = try await a.commit(send(Int64(i + 1), at: Int64(i)), limits: twoADay)
                #expect(outcome == [nil])
            }
            // b has never read this account: its first check reads the log from the start.
            let outcome = try await b.commit(send(3, at: 5), limits: twoADay)
            #expect(outcome.map { $0?.code } == ["isv.BUSINESS_LIMIT_DAY"])
        }
    }

    @Test func aNodeStartingReadsTheLogBeforeItsFirstAccept() async throws {
        try await withTwoNodes { a, b in
            for i in 0..<3 {
                let outcome = try await a.commit(send(Int64(i + 1), to: "8529123456\(i)"), limits: twoADay)
                #expect(outcome == [nil])
            }
            #expect(b.sendMemory.seen(["acme"]).seqs == [0])
            try await b.loadSendCounts(nowMs: now)
            #expect(b.sendMemory.seen(["acme"]).seqs[0] > 0)
            let generation = b.sendMemory.seen([]).generation
            let held = b.sendMemory.history(
                account: "acme",
                recipients: ["85291234560", "85291234562", "85291234569"],
                since: now - 1,
                generation: generation
            )
            #expect(held?.keys.sorted() == ["85291234560", "85291234562"])
        }
    }

    @Test func aReplayDecidedInMemoryWritesNothing() async throws {
        try await withTwoNodes { a, _ in
            var first = send(1)
            first.nonce = NonceRecord(hash: 42, expiresAtMs: now + 900_000)
            #expect(try await a.commit(first, limits: twoADay) == [nil])
            // The second request is decided in memory (the head is where this node left it): its used nonce
            // aborts the one statement, so its message is not stored and its send not counted.
            var replay = send(2, at: 1)
            replay.nonce = first.nonce
            let error = await #expect(throws: StoreError.self) { try await a.commit(replay, limits: twoADay) }
            guard case .nonceUsed? = error else {
                Issue.record("not refused as a replay: \(String(describing: error))")
                return
            }
            #expect(try await a.message(id: 2, account: "acme") == nil)
            #expect(try await a.commit(send(3, at: 2), limits: twoADay) == [nil])
            let outcome = try await a.commit(send(4, at: 3), limits: twoADay)
            #expect(outcome.map { $0?.code } == ["isv.BUSINESS_LIMIT_DAY"])
        }
    }

    /// Groups above `oneStatementMessages` store their messages before their turn: the same counting holds.
    func big(_ first: Int64, numbers: Range<Int>, at offset: Int64) -> WriteBatch {
        WriteBatch(
            messages: numbers.enumerated().map { i, n in
                message(
                    first + Int64(i),
                    to: "852912\(String(format: "%05d", n))",
                    type: .otp,
                    createdAtMs: now + offset
                )
            }
        )
    }

    @Test func largeGroupsCountExactlyOnEitherNode() async throws {
        try await withTwoNodes { a, b in
            let size = PostgresStore.oneStatementMessages + 100
            #expect(try await a.commit(big(1, numbers: 0..<size, at: 0), limits: twoADay).allSatisfy { $0 == nil })
            // Half the numbers again on the same node (memory decides), then all on the other (it reads the log).
            let again = try await a.commit(big(10_001, numbers: 0..<(size / 2), at: 1), limits: twoADay)
            #expect(again.allSatisfy { $0 == nil })
            let third = try await b.commit(big(20_001, numbers: 0..<size, at: 2), limits: twoADay)
            #expect(third.filter { $0 == nil }.count == size - size / 2)
            #expect(third.prefix(size / 2).allSatisfy { $0?.code == "isv.BUSINESS_LIMIT_DAY" })
        }
    }

    @Test func concurrentReplaysOfALargeGroupOnOneNodeStoreOnce() async throws {
        try await withTwoNodes { a, _ in
            var batch = big(1, numbers: 0..<(PostgresStore.oneStatementMessages + 1), at: 0)
            batch.nonce = NonceRecord(hash: 7, expiresAtMs: now + 900_000)
            let request = batch
            let limits = twoADay
            let stored = await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<4 {
                    group.addTask { (try? await a.commit(request, limits: limits)) != nil }
                }
                return await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
            }
            #expect(stored == 1)
        }
    }

    /// A head number taken twice: this node counted a transaction before its COMMIT, the COMMIT failed, and another
    /// transaction committed the same number with other sends before this node emptied its memory. The next group
    /// must not be decided in that memory (the head's token differs), and the locked way waits for the emptying.
    @Test func aHeadNumberTakenTwiceIsNotDecidedInMemory() async throws {
        try await withTwoNodes { a, _ in
            #expect(try await a.commit(send(1, to: "85291230001"), limits: oneADay) == [nil])
            // As if that transaction had rolled back and another had committed head 1 with a send to ...0002.
            var blob: [UInt8] = []
            LimitMemory.encode(Array("85291230002".utf8), SendMemory.pack(.otp, now), into: &blob)
            try await a.run(
                """
                UPDATE send_log SET sends = \(ByteBuffer(bytes: blob)) WHERE account = 'acme' AND seq = 1;
                """
            )
            try await a.run("UPDATE limit_heads SET token = 42 WHERE account = 'acme'")
            // The failed transaction's task empties memory a moment later.
            a.sendMemory.beginTentative(["acme"])
            let memory = a.sendMemory
            let emptying = Task {
                try await Task.sleep(for: .milliseconds(200))
                memory.reset()
                memory.endTentative(["acme"])
            }
            let outcome = try await a.commit(send(2, to: "85291230002", at: 1), limits: oneADay)
            try await emptying.value
            #expect(outcome.map { $0?.code } == ["isv.BUSINESS_LIMIT_DAY"])
        }
    }
}
