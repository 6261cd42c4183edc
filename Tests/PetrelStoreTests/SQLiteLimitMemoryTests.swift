import Foundation
import GRDB
import PetrelCore
import Testing

@testable import PetrelStore

/// SQLite counts `limits.perNumber` sends in memory (`LimitMemory`): bounded, exact past its bound, durable across
/// a restart, and taken back when a transaction rolls back.
@Suite struct SQLiteLimitMemoryTests {
    static let t0: Int64 = 1_800_000_000_000
    let day2 = NumberLimits(byType: [.otp: WindowCounts(day: 2)])

    func send(_ id: Int64, to: String, at: Int64) -> WriteBatch {
        WriteBatch(messages: [message(id, to: to, type: .otp, createdAtMs: at)])
    }

    @Test func memoryHoldsSendsByAccountAndNumberUpToItsCapacity() throws {
        var m = SendMemory(capacity: 3)
        let a = SendMemory.pack(.otp, Self.t0)
        let first = m.add(account: "acme", recipient: "85291234567", packed: a, forgetMs: 0)
        #expect(first)
        let second = m.add(
            account: "acme",
            recipient: "85291234567",
            packed: SendMemory.pack(.mkt, Self.t0 + 5),
            forgetMs: 0
        )
        #expect(second)
        let otherAccount = m.add(account: "other", recipient: "85291234567", packed: a, forgetMs: 0)
        #expect(otherAccount)
        let full = m.add(account: "acme", recipient: "85291234500", packed: a, forgetMs: 0)
        #expect(!full)
        #expect(m.count == 3)
        let sends = m.sends(account: "acme", recipient: "85291234567", after: 0)
        #expect(sends == [LimitedSend(type: .otp, atMs: Self.t0), LimitedSend(type: .mkt, atMs: Self.t0 + 5)])
        #expect(m.sends(account: "acme", recipient: "85291234567", after: Self.t0).count == 1)
        // Adding to a number forgets its sends older than the horizon, making room.
        let afterForgetting = m.add(
            account: "acme",
            recipient: "85291234567",
            packed: SendMemory.pack(.otp, Self.t0 + 9),
            forgetMs: Self.t0 + 5
        )
        #expect(afterForgetting)
        #expect(m.count == 2)
        #expect(m.sends(account: "acme", recipient: "85291234567", after: 0).map(\.atMs) == [Self.t0 + 9])
        // A sweep forgets one shard's old sends.
        let shard = SendMemory.shard(try #require(SendMemory.numberKey("85291234567")))
        let swept = m.sweep(shard: shard, before: Self.t0 + 9)
        #expect(swept == 2)
        #expect(m.count == 0)
        let noShard = m.sweep(shard: 1_000, before: Self.t0)
        #expect(noShard == 0)
    }

    @Test func numbersAreKeyedExactlyAndTextAsText() throws {
        #expect(SendMemory.numberKey("0123") != SendMemory.numberKey("123"))
        #expect(SendMemory.recipient(try #require(SendMemory.numberKey("0085291234567"))) == "0085291234567")
        #expect(SendMemory.numberKey("12345678901234567") != nil)
        #expect(SendMemory.numberKey("123456789012345678") == nil)
        #expect(SendMemory.numberKey("+85291234567") == nil && SendMemory.numberKey("") == nil)
        var m = SendMemory(capacity: 10)
        for to in ["0123", "123", "not a number", "123456789012345678"] {
            let added = m.add(account: "acme", recipient: to, packed: SendMemory.pack(.otp, Self.t0), forgetMs: 0)
            #expect(added)
        }
        for to in ["0123", "123", "not a number", "123456789012345678"] {
            #expect(m.sends(account: "acme", recipient: to, after: 0).count == 1, "\(to)")
        }
        var all: [String] = []
        m.eachSend { key, _ in all.append(key.recipient) }
        #expect(all.sorted() == ["0123", "123", "123456789012345678", "not a number"])
        let swept = m.sweep(shard: 0, before: Self.t0)
        // Shard 0 holds the text keys (and none of these numbers ends in 00).
        #expect(swept == 2 && m.count == 2)
    }

    @Test func logBlobsRoundTripAndStopAtGarbage() {
        var bytes: [UInt8] = []
        let p = SendMemory.pack(.notify, Self.t0)
        LimitMemory.encode(Array("85291234567".utf8), p, into: &bytes)
        LimitMemory.encode(Array("6591234567".utf8), SendMemory.pack(.otp, 1), into: &bytes)
        var seen: [(String, UInt64)] = []
        LimitMemory.decode(bytes + [40, 1, 2]) { seen.append(($0, $1)) }
        #expect(seen.map(\.0) == ["85291234567", "6591234567"])
        #expect(SendMemory.unpack(seen[0].1) == LimitedSend(type: .notify, atMs: Self.t0))
        #expect(SendMemory.unpack(seen[1].1) == LimitedSend(type: .otp, atMs: 1))
    }

    /// Past `trackedSends` the sends are counted on disk: still exact, also after a restart, and after a restart
    /// with a smaller bound than the sends held.
    @Test func pastItsBoundMemorySpillsToDiskAndStaysExact() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("petrel-mem-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let secrets = try SecretBox(key: Array(repeating: 1, count: 32))
        let numbers = ["85291230001", "85291230002", "85291230003", "85291230004"]
        var id: Int64 = 0
        for (round, capacity) in [3, 3, 1, 100].enumerated() {
            let store = try SQLiteStore(directory: dir, secrets: secrets, trackedSends: capacity)
            for to in numbers {
                id += 1
                let outcome = try await store.commit(send(id, to: to, at: Self.t0 + id), limits: day2)
                // Round 0 sends two to each (the second of each after the first round of four), later rounds none.
                if round == 0 {
                    #expect(outcome == [nil])
                    id += 1
                    #expect(try await store.commit(send(id, to: to, at: Self.t0 + id), limits: day2) == [nil])
                } else {
                    #expect(outcome.map { $0?.code } == ["isv.BUSINESS_LIMIT_DAY"], "round \(round), \(to)")
                }
            }
            let counted = try await store.countedSends(account: "acme", recipients: numbers, sinceMs: Self.t0 - 1)
            #expect(numbers.map { counted[$0]?.count ?? 0 } == [2, 2, 2, 2], "round \(round)")
            try await store.close()
        }
    }

    /// A server with limits reads the day's sends when it starts, not at its first limited accept.
    @Test func loadingAtStartReadsTheLog() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("petrel-mem-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let secrets = try SecretBox(key: Array(repeating: 1, count: 32))
        let first = try SQLiteStore(directory: dir, secrets: secrets)
        #expect(try await first.commit(send(1, to: "85291230001", at: Self.t0), limits: day2) == [nil])
        try await first.close()
        let store = try SQLiteStore(directory: dir, secrets: secrets)
        #expect(!store.limitMemory.isLoaded)
        try await store.loadSendCounts(nowMs: Self.t0 + 1)
        #expect(store.limitMemory.isLoaded)
        let counted = store.limitMemory.counted(
            account: "acme",
            recipients: ["85291230001"],
            sinceMs: Self.t0 - 1,
            nowMs: Self.t0 + 1
        )
        #expect(counted?.sends["85291230001"]?.count == 1)
        try await store.close()
    }

    /// What a transaction counted is taken back when it rolls back (memory is read again from the log).
    @Test func aRollbackTakesBackWhatTheTransactionCounted() throws {
        let db = try DatabaseQueue()
        try SQLiteSchema.migrator().migrate(db)
        let memory = LimitMemory(capacity: 10)
        let caps = SendCaps([SendCap(account: "acme", day: 5)])
        let limits = SendLimits(perNumber: day2, caps: caps)
        let batch = send(1, to: "85291234567", at: Self.t0)
        try db.inTransaction { db in
            try memory.load(db, nowMs: Self.t0)
            memory.afterCommit()
            return .commit
        }
        func count(_ db: Database) throws {
            try memory.load(db, nowMs: Self.t0)
            let plan = SendLimitCheck.plan(batch, limits)
            let used = try memory.capsUsed(account: "acme", keys: plan.capKeys, db)
            let outcome = SendLimitCheck.decide(batch, limits, history: [:], used: used, plan: plan)
            try memory.record(account: "acme", outcome, of: batch.messages, nowMs: Self.t0, db)
        }
        try db.inTransaction { db in
            try count(db)
            try memory.beforeCommit(db)
            memory.afterRollback()
            return .rollback
        }
        try db.read { db in
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM send_log") == 0)
            let history = try memory.history(
                account: "acme",
                recipients: ["85291234567"],
                since: 0,
                nowMs: Self.t0,
                db
            )
            #expect(history == [[]])
        }
        try db.inTransaction { db in
            try count(db)
            try memory.beforeCommit(db)
            memory.afterCommit()
            return .commit
        }
        try db.read { db in
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM send_log") == 1)
            #expect(try Int.fetchOne(db, sql: "SELECT sum(parts) FROM cap_counts") == 1)
            let history = try memory.history(account: "acme", recipients: ["85291234567"], since: 0, nowMs: Self.t0, db)
            #expect(history == [[LimitedSend(type: .otp, atMs: Self.t0)]])
            #expect(
                try memory.capsUsed(account: "acme", keys: SendLimitCheck.plan(batch, limits).capKeys, db).values
                    .allSatisfy { $0 == 1 }
            )
        }
    }
}
