import Foundation
import GRDB
import GRDBSQLite
import NIOPosix
public import PetrelCore

extension SQLiteStore {
    public func commit(
        _ batch: WriteBatch,
        limits: SendLimits,
        then: @escaping @Sendable (Result<[ResponseCode?], any Error>) -> Void
    ) {
        // Checked and counted on the writer thread inside the group-commit transaction: one writer, so exact.
        // What needs no store (numbers parsed, recipients sorted) is worked out here, off that one thread.
        let plan = SendLimitCheck.plan(batch, limits)
        let recipients = Self.recipients(batch, limits.perNumber)
        committer.submit(
            weight: batch.messages.count * 2 + 1,
            { db in try self.writeLimited(batch, limits, plan, recipients, db) },
            home: MultiThreadedEventLoopGroup.currentEventLoop,
            then: then
        )
    }

    public func commit(_ batch: WriteBatch, limits: SendLimits) async throws -> [ResponseCode?] {
        let plan = SendLimitCheck.plan(batch, limits)
        let recipients = Self.recipients(batch, limits.perNumber)
        return try await committer.run(weight: batch.messages.count * 2 + 1) { db in
            try self.writeLimited(batch, limits, plan, recipients, db)
        }
    }

    public func pruneSendCounts(beforeMs: Int64) async throws -> Int {
        // Memory a shard at a time, each in its own short job on the writer thread.
        var pruned = 0
        for shard in 0..<SendMemory.shardCount {
            pruned += try await committer.run(weight: 10) { [limitMemory] _ in
                limitMemory.sweep(shard: shard, before: beforeMs)
            }
        }
        // Rows are in arrival order, so the old ones come first: each transaction reads at most `window` rows from
        // the start (never the whole table, which a busy day makes millions of rows, on the writer thread) and
        // deletes the old among them; a window that was all old means there may be more.
        let window = 5000
        for table in ["send_counts", "send_log"] {
            while true {
                let n = try await committer.run(weight: 100) { db in
                    try db.execute(
                        sql: """
                            DELETE FROM \(table) WHERE rowid IN (
                                SELECT rowid FROM (SELECT rowid, at FROM \(table) ORDER BY rowid LIMIT ?) WHERE at <= ?)
                            """,
                        arguments: [window, beforeMs]
                    )
                    return db.changesCount
                }
                // Log rows are storage, not sends: what was forgotten is counted in memory above.
                if table == "send_counts" { pruned += n }
                if n < window { break }
            }
        }
        // A counter per account, country, window and period: few rows, one statement.
        return try await pruned
            + committer.run(weight: 10) { db in
                try db.execute(sql: "DELETE FROM cap_counts WHERE ends <= ?", arguments: [beforeMs])
                var n = db.changesCount
                // The guard's buckets, one Type's range at a time (the key starts with the Type), and lifts older
                // than every window (their pairs count from the window's start anyway).
                for type in MessageType.allCases {
                    try db.execute(
                        sql: "DELETE FROM pumping_counts WHERE type = ? AND start < ?",
                        arguments: [type.rawValue, beforeMs]
                    )
                    n += db.changesCount
                }
                try db.execute(sql: "DELETE FROM pumping_halts WHERE lifted_at < ?", arguments: [beforeMs])
                return n + db.changesCount
            }
    }

    public func capCounters(account: String?, nowMs: Int64) async throws -> [CapCounter] {
        try await readAside { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT account, country, span, start, ends, parts FROM cap_counts
                    WHERE ends > ? AND (? IS NULL OR account = ?) ORDER BY account, country, span, start
                    """,
                arguments: [nowMs, account, account]
            ).compactMap { row in
                CapWindow(rawValue: row[2]).map { window in
                    CapCounter(
                        account: row[0],
                        key: CapKey(country: row[1], window: window, start: row[3]),
                        end: row[4],
                        parts: row[5]
                    )
                }
            }
        }
    }

    /// The numbers whose history the check needs, by message ("" for a message not counted); empty when none is
    /// (a number twice is read twice, cheaper than a set of them all).
    static func recipients(_ batch: WriteBatch, _ limits: NumberLimits) -> [String] {
        guard !limits.isEmpty else { return [] }
        // By index, reading fields in place: a closure over each Message copied it (ten strings retained, released).
        var out: [String] = []
        out.reserveCapacity(batch.messages.count)
        var any = false
        for i in batch.messages.indices {
            let counts = limits.counts(to: batch.messages[i].to, type: batch.messages[i].type)
            out.append(counts ? batch.messages[i].to : "")
            any = any || counts
        }
        return any ? out : []
    }

    public func loadSendCounts(nowMs: Int64) async throws {
        try await committer.run(weight: 1) { [limitMemory] db in try limitMemory.load(db, nowMs: nowMs) }
    }

    public func countedSends(
        account: String,
        recipients: [String],
        sinceMs: Int64
    ) async throws -> [String: [LimitedSend]] {
        guard !recipients.isEmpty else { return [:] }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        if !limitMemory.isLoaded {
            try await committer.run(weight: 1) { [limitMemory] db in try limitMemory.load(db, nowMs: now) }
        }
        guard let memory = limitMemory.counted(account: account, recipients: recipients, sinceMs: sinceMs, nowMs: now)
        else { return [:] }
        guard memory.disk else { return memory.sends }
        return try await readAside { db in
            var out = memory.sends
            // In chunks: a statement takes a bounded number of parameters (and a campaign may have a million rows).
            var start = 0
            while start < recipients.count {
                let chunk = recipients[start..<min(start + 500, recipients.count)]
                start += chunk.count
                var arguments: StatementArguments = [account, sinceMs]
                arguments += StatementArguments(Array(chunk))
                let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                let rows = try Row.fetchCursor(
                    db,
                    sql:
                        "SELECT recipient, type, at FROM send_counts WHERE account = ? AND at > ? AND recipient IN (\(marks))",
                    arguments: arguments
                )
                while let row = try rows.next() {
                    guard let type = MessageType(rawValue: row[1]) else { continue }
                    out[row[0], default: []].append(LimitedSend(type: type, atMs: row[2]))
                }
            }
            return out
        }
    }

    func writeLimited(
        _ batch: WriteBatch,
        _ limits: SendLimits,
        _ plan: SendLimitCheck.Plan,
        _ recipients: [String],
        _ db: Database
    ) throws -> [ResponseCode?] {
        let account = batch.messages.first?.account ?? ""
        let now = batch.messages.map(\.createdAtMs).max() ?? 0
        let memory = limitMemory
        var history: [[LimitedSend]] = []
        if !recipients.isEmpty {
            try memory.load(db, nowMs: now)
            history = try memory.history(
                account: account,
                recipients: recipients,
                since: now - NumberLimits.horizonMs,
                nowMs: now,
                db
            )
        }
        let used = plan.slots.isEmpty ? [] : try memory.capsUsed(account: account, slots: plan.slots.map(\.key), db)
        let outcome = SendLimitCheck.decide(
            batch,
            limits,
            sent: history.isEmpty ? .byRecipient([:]) : .byMessage(history),
            usedBySlot: used,
            plan: plan
        )
        // Counted before the rows are written: the numbers' entries in memory, just read by `history`, are still in
        // the cache (writing a thousand rows first evicted them, and the second visit cost as much as the first).
        // A rollback takes the counts back (`afterRollback`).
        if !outcome.counted.isEmpty { try memory.load(db, nowMs: now) }
        try memory.record(account: account, outcome, of: batch.messages, nowMs: now, db)
        try Self.write(outcome.kept, db, stats: statsEpoch)
        return outcome.refusals
    }
}
