import PetrelCore
import PostgresNIO

extension PostgresStore {
    public func sendDetails(_ q: SendDetailsQuery) async throws -> SendDetailsPage {
        // The ids' range comes from SendDate (one day), so the primary key bounds the scan.
        var binds = PostgresBindings()
        binds.append(q.account)
        binds.append(q.to)
        binds.append(q.ids.lowerBound)
        binds.append(q.ids.upperBound)
        var filter = "account = $1 AND recipient = $2 AND api = \(ClassicSQL.classic) AND id BETWEEN $3 AND $4"
        if let biz = q.bizId {
            binds.append(biz)
            filter += " AND biz_id = $5"
        }
        let total = try await rows(
            PostgresQuery(unsafeSQL: "SELECT COUNT(*) FROM messages WHERE \(filter)", binds: binds)
        ) {
            try $0.get(0, as: Int64.self)
        }
        var pageBinds = binds
        pageBinds.append(Int64(max(1, q.limit)))
        pageBinds.append(Int64(max(0, q.offset)))
        let n = binds.count
        let page = try await rows(
            PostgresQuery(
                unsafeSQL:
                    "SELECT \(Self.messageColumns) FROM messages WHERE \(filter) ORDER BY id LIMIT $\(n + 1) OFFSET $\(n + 2)",
                binds: pageBinds
            )
        ) { try Self.message($0) }
        return SendDetailsPage(total: Int(total.first ?? 0), messages: page)
    }

    public func sendStatistics(_ q: SendStatisticsQuery) async throws -> [DayTotals] {
        let mainland = q.mainland
        return try await rows(
            """
            SELECT (created_at + \(q.offsetMs)) / 86400000 AS day, COUNT(*),
                COUNT(*) FILTER (WHERE status = \(unescaped: ClassicSQL.delivered)),
                COUNT(*) FILTER (WHERE status IN (\(unescaped: ClassicSQL.failed)))
            FROM messages WHERE account = \(q.account) AND id >= \(q.ids.lowerBound) AND id < \(q.ids.upperBound)
                AND (left(recipient, 2) = '86') = \(mainland)
            GROUP BY day ORDER BY day
            """
        ) {
            DayTotals(
                day: try $0.get(0, as: Int64.self),
                total: Int(try $0.get(1, as: Int64.self)),
                delivered: Int(try $0.get(2, as: Int64.self)),
                failed: Int(try $0.get(3, as: Int64.self))
            )
        }
    }
}
