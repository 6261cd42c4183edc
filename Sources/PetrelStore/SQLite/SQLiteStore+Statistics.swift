import GRDB
import PetrelCore
import Synchronization

/// Statistics counters on SQLite (`v23-statistics`): accepts count here, in the accept transaction, one upsert per
/// key of the batch; outcomes count in the trigger `messages_final_stats`.
extension SQLiteStore {
    static let countAcceptedSQL = """
        INSERT INTO stats_hours (account, hour, country, type, channel, submitted, parts, delivered, failed, expired)
        VALUES (?, ?, ?, ?, '', ?, ?, ?, ?, ?)
        ON CONFLICT (account, hour, country, type, channel) DO UPDATE SET
            submitted = submitted + excluded.submitted, parts = parts + excluded.parts,
            delivered = delivered + excluded.delivered, failed = failed + excluded.failed,
            expired = expired + excluded.expired
        """

    /// Counts `messages`, just inserted, as submitted (and those already final as such: none today) under channel
    /// "", the one the insert gives them: into `pending`, written once per transaction (`StatsPending`).
    static func countAccepted(_ messages: [Message], _ db: Database, pending: StatsPending) throws {
        pending.add(messages)
        // Refused at accept (no such path today): counted with their codes, as the trigger would.
        for m in messages where m.status.isFinal && m.status != .delivered && !m.errorCode.isEmpty {
            let key = StatsKey(m)
            try db.execute(
                sql: """
                    INSERT INTO stats_errors (account, hour, country, type, channel, code, n) VALUES (?, ?, ?, ?, '', ?, 1)
                    ON CONFLICT (account, hour, country, type, channel, code) DO UPDATE SET n = n + 1
                    """,
                arguments: [key.account, key.hour, key.country, key.type, m.errorCode]
            )
        }
    }

    /// The WHERE clause of `filter` on `table` (fixed text, values bound). Without an account, the accounts are
    /// named (found by a skip scan, one seek each): the primary key (account, hour, …) then reads each account's
    /// hours in order, where the index on hour would look every row up again (twice as slow over a month).
    static func statsWhere(_ f: StatsFilter, table: String, _ db: Database) throws -> (String, [DatabaseValue]) {
        var sql = "hour >= ? AND hour < ?"
        var args: [DatabaseValue] = [f.fromMs.databaseValue, f.toMs.databaseValue]
        if f.account == nil {
            var accounts: [String] = []
            let next = try db.cachedStatement(
                sql: "SELECT account FROM \(table) WHERE account > ? ORDER BY account LIMIT 1"
            )
            while accounts.count <= statsAccountsNamed,
                let a = try String.fetchOne(next, arguments: [accounts.last ?? ""])
            {
                accounts.append(a)
            }
            if accounts.count <= statsAccountsNamed {
                sql +=
                    " AND account IN (\(accounts.isEmpty ? "NULL" : accounts.map { _ in "?" }.joined(separator: ",")))"
                args += accounts.map(\.databaseValue)
            }
        }
        for (column, value) in [
            ("account", f.account), ("country", f.country), ("channel", f.channel), ("type", f.type),
        ] {
            guard let value else { continue }
            sql += " AND \(column) = ?"
            args.append(value.databaseValue)
        }
        return (sql, args)
    }

    /// Up to this many accounts are named in a query over all of them (more: the index on hour serves it).
    static let statsAccountsNamed = 200

    public func statistics(_ filter: StatsFilter, by dimension: StatsDimension) async throws -> [StatsRow] {
        try await readAside { db in
            let (whereSQL, whereArgs) = try Self.statsWhere(filter, table: "stats_hours", db)
            var args: [DatabaseValue] = []
            if case .day(let offset) = dimension {
                args += [(Int64(offset) * 1000).databaseValue, (Int64(offset) * 1000).databaseValue]
            }
            args += whereArgs
            let sums = (["submitted", "parts", "delivered", "failed", "expired"] + StatsSQL.deliveryColumns)
                .map { "SUM(\($0))" }.joined(separator: ", ")
            let sql = """
                SELECT \(StatsSQL.keyExpression(dimension)) AS k, \(sums) FROM stats_hours
                WHERE \(whereSQL) GROUP BY k ORDER BY k
                """
            return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args)).map(Self.statsRow)
        }
    }

    public func statisticsCells(_ filter: StatsFilter, dayOffsetSeconds: Int?) async throws -> [StatsCell] {
        try await readAside { db in
            let (whereSQL, whereArgs) = try Self.statsWhere(filter, table: "stats_hours", db)
            var args: [DatabaseValue] = []
            var period = "hour"
            if let offset = dayOffsetSeconds {
                period = StatsSQL.keyExpression(.day(offsetSeconds: offset))
                args += [(Int64(offset) * 1000).databaseValue, (Int64(offset) * 1000).databaseValue]
            }
            args += whereArgs
            let sums = (["submitted", "parts", "delivered", "failed", "expired"] + StatsSQL.deliveryColumns)
                .map { "SUM(\($0))" }.joined(separator: ", ")
            let sql = """
                SELECT \(period) AS p, account, country, type, channel, \(sums) FROM stats_hours
                WHERE \(whereSQL) GROUP BY p, account, country, type, channel
                """
            var cells: [StatsCell] = []
            let rows = try Row.fetchCursor(db, sql: sql, arguments: StatementArguments(args))
            while let row = try rows.next() {
                var c = StatsCounts()
                c.submitted = row[5]
                c.parts = row[6]
                c.delivered = row[7]
                c.failed = row[8]
                c.expired = row[9]
                for i in c.delivery.indices { c.delivery[i] = row[10 + i] }
                cells.append(
                    StatsCell(
                        period: row[0],
                        account: row[1],
                        country: row[2],
                        type: row[3],
                        channel: row[4],
                        counts: c
                    )
                )
            }
            return cells
        }
    }

    static func statsRow(_ row: Row) -> StatsRow {
        let key: DatabaseValue = row[0]
        let text: String =
            switch key.storage {
            case .int64(let n): String(n)
            case .string(let s): s
            default: ""
            }
        var c = StatsCounts()
        c.submitted = row[1] ?? 0
        c.parts = row[2] ?? 0
        c.delivered = row[3] ?? 0
        c.failed = row[4] ?? 0
        c.expired = row[5] ?? 0
        for i in c.delivery.indices { c.delivery[i] = row[6 + i] ?? 0 }
        return StatsRow(key: text, counts: c)
    }

    public func statisticsErrors(_ filter: StatsFilter, limit: Int) async throws -> [StatsError] {
        try await readAside { db in
            let (whereSQL, whereArgs) = try Self.statsWhere(filter, table: "stats_errors", db)
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT code, SUM(n) AS total FROM stats_errors WHERE \(whereSQL)
                    GROUP BY code ORDER BY total DESC, code LIMIT ?
                    """,
                arguments: StatementArguments(whereArgs + [limit.databaseValue])
            ).map { StatsError(code: $0[0], count: $0[1]) }
        }
    }

    public func purgeStatistics(account: String, hourBeforeMs: Int64, limit: Int) async throws -> Int {
        try await committer.run(weight: limit) { db in
            var n = 0
            for table in ["stats_hours", "stats_errors"] {
                try db.execute(
                    sql: """
                        DELETE FROM \(table) WHERE (account, hour) IN (
                            SELECT account, hour FROM \(table) WHERE account = ? AND hour < ? ORDER BY hour LIMIT ?)
                        """,
                    arguments: [account, hourBeforeMs, limit]
                )
                n += db.changesCount
            }
            return n
        }
    }
}

extension StatsCounts {
    /// Adds a message as accepted: submitted, its parts, and its outcome if it is already final.
    mutating func add(accepted m: Message) {
        submitted += 1
        parts += m.segments
        switch m.status {
        case .delivered: delivered += 1
        case .failed: failed += 1
        case .expired: expired += 1
        default: break
        }
    }
}

/// The accepts of one write transaction, summed by key on the writer thread and written just before COMMIT, one
/// upsert per key (a group commit of 64 single sends of one account and Type is one upsert, not 64). Rolled back
/// with the transaction.
final class StatsPending: Sendable, TransactionHooks {
    private let pending = Mutex<[StatsKey: StatsCounts]>([:])

    func add(_ messages: [Message]) {
        pending.withLock { p in
            for m in messages {
                var key = StatsKey(m)
                key.channel = ""
                p[key, default: StatsCounts()].add(accepted: m)
            }
        }
    }

    func beforeCommit(_ db: Database) throws {
        let counts = pending.withLock { p -> [StatsKey: StatsCounts] in
            defer { p = [:] }
            return p
        }
        guard !counts.isEmpty else { return }
        let statement = try db.cachedStatement(sql: SQLiteStore.countAcceptedSQL)
        for (key, c) in counts {
            try FastStatement.run(statement, db) {
                $0.bind(key.account)
                $0.bind(key.hour)
                $0.bind(key.country)
                $0.bind(key.type)
                $0.bind(c.submitted)
                $0.bind(c.parts)
                $0.bind(c.delivered)
                $0.bind(c.failed)
                $0.bind(c.expired)
            }
        }
    }

    func afterCommit() {}

    func afterRollback() {
        pending.withLock { $0 = [:] }
    }
}

/// Several hooks, called in order.
struct TransactionHooksList: TransactionHooks {
    let hooks: [any TransactionHooks]

    func beforeCommit(_ db: Database) throws {
        for h in hooks { try h.beforeCommit(db) }
    }

    func afterCommit() {
        for h in hooks { h.afterCommit() }
    }

    func afterRollback() {
        for h in hooks { h.afterRollback() }
    }
}
