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
        let recipients = SendLimitCheck.recipients(batch, limits.perNumber)
        committer.submit(
            weight: batch.messages.count * 2 + 1,
            { db in try Self.writeLimited(batch, limits, plan, recipients, db) },
            home: MultiThreadedEventLoopGroup.currentEventLoop,
            then: then
        )
    }

    public func commit(_ batch: WriteBatch, limits: SendLimits) async throws -> [ResponseCode?] {
        let plan = SendLimitCheck.plan(batch, limits)
        let recipients = SendLimitCheck.recipients(batch, limits.perNumber)
        return try await committer.run(weight: batch.messages.count * 2 + 1) { db in
            try Self.writeLimited(batch, limits, plan, recipients, db)
        }
    }

    public func pruneSendCounts(beforeMs: Int64) async throws -> Int {
        // Rows are in arrival order, so the old ones come first: each transaction reads at most `window` rows from
        // the start (never the whole table, which a busy day makes millions of rows, on the writer thread) and
        // deletes the old among them; a window that was all old means there may be more.
        let window = 5000
        var pruned = 0
        while true {
            let n = try await committer.run(weight: 100) { db in
                try db.execute(
                    sql: """
                        DELETE FROM send_counts WHERE rowid IN (
                            SELECT rowid FROM (SELECT rowid, at FROM send_counts ORDER BY rowid LIMIT ?) WHERE at <= ?)
                        """,
                    arguments: [window, beforeMs]
                )
                return db.changesCount
            }
            pruned += n
            if n < window { break }
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

    public func countedSends(
        account: String,
        recipients: [String],
        sinceMs: Int64
    ) async throws -> [String: [LimitedSend]] {
        guard !recipients.isEmpty else { return [:] }
        return try await readAside { db in
            var out: [String: [LimitedSend]] = [:]
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

    static func writeLimited(
        _ batch: WriteBatch,
        _ limits: SendLimits,
        _ plan: SendLimitCheck.Plan,
        _ recipients: [String],
        _ db: Database
    ) throws -> [ResponseCode?] {
        let account = batch.messages.first?.account ?? ""
        let since = (batch.messages.map(\.createdAtMs).max() ?? 0) - NumberLimits.horizonMs
        var history: [String: [LimitedSend]] = [:]
        // (Prepared only when used: caps or a pumping guard alone need none of these.) Sends older than every
        // window are not read; Housekeeping prunes them (`pruneSendCounts`).
        if !recipients.isEmpty {
            let select = try db.cachedStatement(
                sql: "SELECT type, at FROM send_counts WHERE account = ? AND recipient = ? AND at > ?"
            )
            for to in recipients {
                var sends: [LimitedSend] = []
                try FastStatement.query(
                    select,
                    db,
                    {
                        $0.bind(account)
                        $0.bind(to)
                        $0.bind(since)
                    },
                    row: { row in
                        let type = String(cString: sqlite3_column_text(row, 0))
                        if let type = MessageType(rawValue: type) {
                            sends.append(LimitedSend(type: type, atMs: sqlite3_column_int64(row, 1)))
                        }
                    }
                )
                if !sends.isEmpty { history[to] = sends }
            }
        }
        var used: [CapKey: Int] = [:]
        let keys = plan.capKeys
        if !keys.isEmpty {
            let read = try db.cachedStatement(
                sql: "SELECT parts FROM cap_counts WHERE account = ? AND country = ? AND span = ? AND start = ?"
            )
            for k in keys {
                used[k] = try Int.fetchOne(read, arguments: [account, k.country, k.window.rawValue, k.start]) ?? 0
            }
        }
        let outcome = SendLimitCheck.decide(batch, limits, history: history, used: used, plan: plan)
        try write(outcome.kept, db)
        if !outcome.parts.isEmpty {
            let add = try db.cachedStatement(
                sql: """
                    INSERT INTO cap_counts (account, country, span, start, ends, parts) VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (account, country, span, start) DO UPDATE SET parts = parts + excluded.parts
                    """
            )
            for (k, v) in outcome.parts {
                try add.execute(arguments: [account, k.country, k.window.rawValue, k.start, v.end, v.parts])
            }
        }
        try addPumpingSends(account, outcome.guarded, db)
        guard !outcome.counted.isEmpty else { return outcome.refusals }
        let insert = try db.cachedStatement(
            sql: "INSERT INTO send_counts (account, recipient, type, at) VALUES (?, ?, ?, ?)"
        )
        for m in outcome.counted {
            try insert.execute(arguments: [m.account, m.to, m.type.rawValue, m.createdAtMs])
        }
        return outcome.refusals
    }
}
