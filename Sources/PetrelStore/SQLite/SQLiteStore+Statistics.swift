import GRDB
import PetrelCore
import Synchronization

/// Statistics counters on SQLite (`v24-statistics`), folded off the hot path. The writer stamps each message it
/// stores with the current fold epoch (`sx`, bound with the row) and each message it makes final with the epoch
/// then (`fx`, read from `stats_fold` once per statement): nothing more happens in those transactions. A fold
/// (`foldStatistics`) takes three steps:
/// 1. the writer opens a new epoch (a one-row update): every message stamped before it is then committed, or
///    rolled back with the update itself;
/// 2. a reader sums the messages stamped since the cursor (`folded`) and before the new epoch, over the indexes on
///    `sx` and `fx`, beside the writer;
/// 3. the writer adds those sums to the counters and moves the cursor, in one transaction, if the cursor is still
///    where step 2 started (else another fold counted that range first, and this one starts again).
/// Exact after kill -9: the counters and the cursor move together, and a message's stamp is never below the
/// cursor.
extension SQLiteStore {
    static let statsUpsertSQL: String = {
        let c = StatsSQL.counterColumns
        return """
            INSERT INTO stats_hours (account, hour, country, type, channel, \(c.joined(separator: ", ")))
            VALUES (?, ?, ?, ?, ?, \(c.map { _ in "?" }.joined(separator: ", ")))
            ON CONFLICT (account, hour, country, type, channel) DO UPDATE SET
                \(c.map { "\($0) = \($0) + excluded.\($0)" }.joined(separator: ", "))
            """
    }()

    static let statsErrorsUpsertSQL = """
        INSERT INTO stats_errors (account, hour, country, type, channel, code, n) VALUES (?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (account, hour, country, type, channel, code) DO UPDATE SET n = n + excluded.n
        """

    static let foldSQL = StatsSQL.foldSelect(
        code: SQLiteSchema.codeOf,
        accepts: "m.sx >= ?1 AND m.sx < ?2",
        finals: "m.fx >= ?1 AND m.fx < ?2"
    )
    static let foldErrorsSQL = StatsSQL.foldErrorsSelect(code: SQLiteSchema.codeOf, finals: "m.fx >= ?1 AND m.fx < ?2")
    static let foldCampaignsSQL = StatsSQL.foldCampaignsSelect(finals: "m.fx >= ?1 AND m.fx < ?2")

    @discardableResult
    public func foldStatistics() async throws -> Int {
        try await foldStatistics(interruptBeforeCursor: false)
    }

    /// `interruptBeforeCursor` (tests): the last step fails after adding to the counters, before moving the cursor.
    func foldStatistics(interruptBeforeCursor: Bool) async throws -> Int {
        for _ in 0..<5 {
            if let counted = try await foldOnce(interruptBeforeCursor) { return counted }
        }
        return 0
    }

    /// One fold; nil when another one moved the cursor meanwhile.
    func foldOnce(_ interruptBeforeCursor: Bool) async throws -> Int? {
        // Nothing stamped since the cursor (the usual case between folds): no write at all.
        let pending = try await readAside { db -> Bool in
            guard let folded = try Int64.fetchOne(db, sql: "SELECT folded FROM stats_fold") else { return false }
            return try Bool.fetchOne(
                db,
                sql: """
                    SELECT EXISTS (SELECT 1 FROM messages WHERE sx >= ?1)
                        OR EXISTS (SELECT 1 FROM messages WHERE fx >= ?1)
                    """,
                arguments: [folded]
            ) ?? false
        }
        guard pending else { return 0 }
        let epoch = statsEpoch
        let (from, to) = try await committer.run(weight: 1) { db -> (Int64, Int64) in
            let row = try Row.fetchOne(db, sql: "UPDATE stats_fold SET epoch = epoch + 1 RETURNING folded, epoch")
            guard let row else { throw StoreError.database(code: "stats", message: "stats_fold has no row") }
            let next: Int64 = row[1]
            epoch.set(next)
            return (row[0], next)
        }
        let (cells, errors, campaigns) = try await readAside {
            db -> ([[DatabaseValue]], [[DatabaseValue]], [[DatabaseValue]]) in
            (
                try Row.fetchAll(db, sql: Self.foldSQL, arguments: [from, to]).map { Array($0.databaseValues) },
                try Row.fetchAll(db, sql: Self.foldErrorsSQL, arguments: [from, to]).map { Array($0.databaseValues) },
                try Row.fetchAll(db, sql: Self.foldCampaignsSQL, arguments: [from, to]).map {
                    Array($0.databaseValues)
                }
            )
        }
        return try await committer.run(weight: cells.count + errors.count + campaigns.count + 1) { db -> Int? in
            guard try Int64.fetchOne(db, sql: "SELECT folded FROM stats_fold") == from else { return nil }
            let upsert = try db.cachedStatement(sql: Self.statsUpsertSQL)
            for row in cells { try upsert.execute(arguments: StatementArguments(row)) }
            let upsertError = try db.cachedStatement(sql: Self.statsErrorsUpsertSQL)
            for row in errors { try upsertError.execute(arguments: StatementArguments(row)) }
            let addCampaign = try db.cachedStatement(
                sql: """
                    UPDATE campaign_outcomes SET delivered = delivered + ?2, failed = failed + ?3,
                        expired = expired + ?4 WHERE campaign_id = ?1
                    """
            )
            for row in campaigns { try addCampaign.execute(arguments: StatementArguments(row)) }
            if interruptBeforeCursor { throw StatsFoldInterrupted() }
            try db.execute(sql: "UPDATE stats_fold SET folded = ?", arguments: [to])
            return cells.count
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
        try await foldStatistics()
        return try await readAside { db in
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
        try await foldStatistics()
        return try await readAside { db in
            let (whereSQL, whereArgs) = try Self.statsWhere(filter, table: "stats_hours", db)
            let sql = """
                SELECT hour, account, country, type, channel, \(StatsSQL.counterColumns.joined(separator: ", "))
                FROM stats_hours WHERE \(whereSQL)
                """
            return try StatsCube.cells(
                db.makeStatement(sql: sql),
                StatementArguments(whereArgs),
                db,
                dayOffsetMs: dayOffsetSeconds.map { Int64($0) * 1000 }
            )
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
        try await foldStatistics()
        return try await readAside { db in
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

/// The fold epoch the writer stamps on the messages it stores (`sx`): `stats_fold.epoch` as of the last fold
/// (set on the writer thread, read there).
final class StatsEpoch: Sendable {
    private let value: Atomic<Int64>

    init(_ epoch: Int64) {
        value = Atomic(epoch)
    }

    var current: Int64 { value.load(ordering: .relaxed) }

    func set(_ epoch: Int64) {
        value.store(epoch, ordering: .relaxed)
    }
}
