import PetrelCore
import PostgresNIO

/// Statistics counters on PostgreSQL (`v23-statistics`), folded off the hot path. A message carries the id of the
/// transaction that stored it (`sx`, a column default) and of the one that made it final (`fx`). Transaction ids
/// are handed out in start order, not commit order, so a fold counts the range from its cursor up to the xmin of a
/// snapshot taken after it locked the cursor: every transaction below that xmin has ended, so nothing can appear in
/// the range later, and nothing above it was counted. The counters and the cursor move in one transaction, and the
/// cursor's row lock makes a second node's fold wait and then start from the new cursor.
extension PostgresStore {
    /// The counters as a read sees them: the folded rows, and the messages stamped since the cursor summed the way
    /// a fold would, in the same statement (one snapshot). So a read is exact even while a transaction still open
    /// somewhere in the cluster holds the folds back at its id, and never writes.
    static let liveHoursSQL: String = {
        let since = "(SELECT last FROM stats_fold WHERE id = 0)"
        let tail = StatsSQL.foldSelect(
            code: { "stats_code(\($0))" },
            accepts: "m.sx >= \(since)",
            finals: "m.fx >= \(since)"
        )
        return """
            (SELECT account, hour, country, type, channel, \(StatsSQL.counterColumns.joined(separator: ", "))
            FROM stats_hours UNION ALL \(tail)) AS live
            """
    }()

    /// `stats_errors` as a read sees it (as `liveHoursSQL`).
    static let liveErrorsSQL: String = {
        let tail = StatsSQL.foldErrorsSelect(
            code: { "stats_code(\($0))" },
            finals: "m.fx >= (SELECT last FROM stats_fold WHERE id = 0)"
        )
        return "(SELECT account, hour, country, type, channel, code, n FROM stats_errors UNION ALL \(tail)) AS live"
    }()

    @discardableResult
    public func foldStatistics() async throws -> Int {
        try await foldStatistics(interruptBeforeCursor: false)
    }

    /// `interruptBeforeCursor` (tests): the fold fails after adding to the counters, before moving the cursor.
    func foldStatistics(interruptBeforeCursor: Bool) async throws -> Int {
        try await transaction { c in
            guard
                let last = try await self.first(
                    "SELECT last::text FROM stats_fold WHERE id = 0 FOR UPDATE",
                    on: c,
                    { try $0.get(0, as: String.self) }
                ).flatMap({ UInt64($0) }),
                // A new statement, so a new snapshot: taken after the lock, above every fold before this one.
                let xmin = try await self.first(
                    "SELECT pg_snapshot_xmin(pg_current_snapshot())::text",
                    on: c,
                    { try $0.get(0, as: String.self) }
                ).flatMap({ UInt64($0) }),
                xmin > last
            else { return 0 }
            // Numbers read from the server above, written as literals (the same SQL text shape every time).
            let range = { (column: String) in "m.\(column) >= '\(last)'::xid8 AND m.\(column) < '\(xmin)'::xid8" }
            let counters = StatsSQL.counterColumns
            let select = StatsSQL.foldSelect(
                code: { "stats_code(\($0))" },
                accepts: range("sx"),
                finals: range("fx")
            )
            let changed = try await self.run(
                """
                INSERT INTO stats_hours (account, hour, country, type, channel, \(unescaped: counters.joined(separator: ", ")))
                \(unescaped: select)
                ON CONFLICT (account, hour, country, type, channel) DO UPDATE SET
                    \(unescaped: counters.map { "\($0) = stats_hours.\($0) + EXCLUDED.\($0)" }.joined(separator: ", "))
                RETURNING 1
                """,
                on: c
            )
            let errors = StatsSQL.foldErrorsSelect(code: { "stats_code(\($0))" }, finals: range("fx"))
            try await self.run(
                """
                INSERT INTO stats_errors (account, hour, country, type, channel, code, n)
                \(unescaped: errors)
                ON CONFLICT (account, hour, country, type, channel, code) DO UPDATE SET n = stats_errors.n + EXCLUDED.n
                """,
                on: c
            )
            try await self.run(
                """
                UPDATE campaign_outcomes o SET delivered = o.delivered + s.d, failed = o.failed + s.f,
                    expired = o.expired + s.e
                FROM (\(unescaped: StatsSQL.foldCampaignsSelect(finals: range("fx")))) AS s(id, d, f, e)
                WHERE o.campaign_id = s.id
                """,
                on: c
            )
            if interruptBeforeCursor { throw StatsFoldInterrupted() }
            try await self.run("UPDATE stats_fold SET last = \(String(xmin))::xid8 WHERE id = 0", on: c)
            return changed
        }
    }

    /// The key of `dimension` as SQL text: fixed column names, and for days an integer offset (configuration, not
    /// user input).
    static func statsKey(_ dimension: StatsDimension) -> String {
        switch dimension {
        case .day(let offset):
            let ms = Int64(offset) * 1000
            return "((hour + (\(ms))) / 86400000) * 86400000 - (\(ms))"
        default: return StatsSQL.keyExpression(dimension)
        }
    }

    public func statistics(_ filter: StatsFilter, by dimension: StatsDimension) async throws -> [StatsRow] {
        let numeric: Bool =
            switch dimension {
            case .hour, .day: true
            default: false
            }
        let key = numeric ? "(\(Self.statsKey(dimension)))::bigint" : "(\(Self.statsKey(dimension)))::text"
        let sums = (["submitted", "parts", "delivered", "failed", "expired"] + StatsSQL.deliveryColumns)
            .map { "SUM(\($0))::bigint" }.joined(separator: ", ")
        return try await rows(
            """
            SELECT \(unescaped: key) AS k, \(unescaped: sums) FROM \(unescaped: Self.liveHoursSQL)
            WHERE hour >= \(filter.fromMs) AND hour < \(filter.toMs)
                AND (\(filter.account)::text IS NULL OR account = \(filter.account))
                AND (\(filter.country)::text IS NULL OR country = \(filter.country))
                AND (\(filter.channel)::text IS NULL OR channel = \(filter.channel))
                AND (\(filter.type)::text IS NULL OR type = \(filter.type))
            GROUP BY k ORDER BY k
            """
        ) { row in
            var c = StatsCounts()
            c.submitted = Int(try row.get(1, as: Int64.self))
            c.parts = Int(try row.get(2, as: Int64.self))
            c.delivered = Int(try row.get(3, as: Int64.self))
            c.failed = Int(try row.get(4, as: Int64.self))
            c.expired = Int(try row.get(5, as: Int64.self))
            for i in c.delivery.indices { c.delivery[i] = Int(try row.get(6 + i, as: Int64.self)) }
            let k =
                numeric ? String(try row.get(0, as: Int64.self)) : try row.get(0, as: String.self)
            return StatsRow(key: k, counts: c)
        }
    }

    public func statisticsCells(_ filter: StatsFilter, dayOffsetSeconds: Int?) async throws -> [StatsCell] {
        let period = dayOffsetSeconds.map { Self.statsKey(.day(offsetSeconds: $0)) } ?? "hour"
        let sums = (["submitted", "parts", "delivered", "failed", "expired"] + StatsSQL.deliveryColumns)
            .map { "SUM(\($0))::bigint" }.joined(separator: ", ")
        return try await rows(
            """
            SELECT (\(unescaped: period))::bigint AS p, account, country, type, channel, \(unescaped: sums)
            FROM \(unescaped: Self.liveHoursSQL)
            WHERE hour >= \(filter.fromMs) AND hour < \(filter.toMs)
                AND (\(filter.account)::text IS NULL OR account = \(filter.account))
                AND (\(filter.country)::text IS NULL OR country = \(filter.country))
                AND (\(filter.channel)::text IS NULL OR channel = \(filter.channel))
                AND (\(filter.type)::text IS NULL OR type = \(filter.type))
            GROUP BY p, account, country, type, channel
            """
        ) { row in
            var c = StatsCounts()
            c.submitted = Int(try row.get(5, as: Int64.self))
            c.parts = Int(try row.get(6, as: Int64.self))
            c.delivered = Int(try row.get(7, as: Int64.self))
            c.failed = Int(try row.get(8, as: Int64.self))
            c.expired = Int(try row.get(9, as: Int64.self))
            for i in c.delivery.indices { c.delivery[i] = Int(try row.get(10 + i, as: Int64.self)) }
            return StatsCell(
                period: try row.get(0, as: Int64.self),
                account: try row.get(1, as: String.self),
                country: try row.get(2, as: String.self),
                type: try row.get(3, as: String.self),
                channel: try row.get(4, as: String.self),
                counts: c
            )
        }
    }

    public func statisticsErrors(_ filter: StatsFilter, limit: Int) async throws -> [StatsError] {
        try await rows(
            """
            SELECT code, SUM(n)::bigint AS total FROM \(unescaped: Self.liveErrorsSQL)
            WHERE hour >= \(filter.fromMs) AND hour < \(filter.toMs)
                AND (\(filter.account)::text IS NULL OR account = \(filter.account))
                AND (\(filter.country)::text IS NULL OR country = \(filter.country))
                AND (\(filter.channel)::text IS NULL OR channel = \(filter.channel))
                AND (\(filter.type)::text IS NULL OR type = \(filter.type))
            GROUP BY code HAVING SUM(n) > 0 ORDER BY total DESC, code LIMIT \(Int64(limit))
            """
        ) {
            StatsError(
                code: try $0.get(0, as: String.self),
                count: Int(try $0.get(1, as: Int64.self))
            )
        }
    }

    /// Folds `account`'s counter rows into one per key (a row deleted by two nodes at once is taken by one: the
    /// other's DELETE skips it once the first commits), then deletes its hours before `hourBeforeMs`.
    public func purgeStatistics(account: String, hourBeforeMs: Int64, limit: Int) async throws -> Int {
        var deleted = 0
        for table in ["stats_hours", "stats_errors"] {
            deleted += try await run(
                """
                DELETE FROM \(unescaped: table) WHERE account = \(account) AND hour IN (
                    SELECT DISTINCT hour FROM \(unescaped: table) WHERE account = \(account) AND hour < \(hourBeforeMs)
                    ORDER BY hour LIMIT \(Int64(limit)))
                RETURNING 1
                """
            )
        }
        return deleted
    }
}
