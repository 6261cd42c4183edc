import PetrelCore
import PostgresNIO

/// Statistics counters on PostgreSQL (`v22-statistics`): the triggers append rows of deltas, reads sum them, the
/// purge folds them (`purgeStatistics`).
extension PostgresStore {
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
            SELECT \(unescaped: key) AS k, \(unescaped: sums) FROM stats_hours
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
            FROM stats_hours
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
            SELECT code, SUM(n)::bigint AS total FROM stats_errors
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
        let d = StatsSQL.deliveryColumns
        let counters = ["submitted", "parts", "delivered", "failed", "expired"] + d
        let columns = "account, hour, country, type, channel, " + counters.joined(separator: ", ")
        let sums = counters.map { "SUM(\($0))" }.joined(separator: ", ")
        try await run(
            """
            WITH d AS (DELETE FROM stats_hours WHERE account = \(account) RETURNING *)
            INSERT INTO stats_hours (\(unescaped: columns))
            SELECT account, hour, country, type, channel, \(unescaped: sums) FROM d
            GROUP BY account, hour, country, type, channel
            """
        )
        try await run(
            """
            WITH d AS (DELETE FROM stats_errors WHERE account = \(account) RETURNING *)
            INSERT INTO stats_errors (account, hour, country, type, channel, code, n)
            SELECT account, hour, country, type, channel, code, SUM(n) FROM d
            GROUP BY account, hour, country, type, channel, code
            """
        )
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
