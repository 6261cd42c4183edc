import GRDB
public import PetrelCore

extension SQLiteStore {
    public func sendDetails(_ q: SendDetailsQuery) async throws -> SendDetailsPage {
        // The ids' range comes from SendDate (one day), so the primary key bounds the scan.
        var filter = "account = ? AND recipient = ? AND api = \(ClassicSQL.classic) AND id BETWEEN ? AND ?"
        var args: StatementArguments = [q.account, q.to, q.ids.lowerBound, q.ids.upperBound]
        if let biz = q.bizId {
            filter += " AND biz_id = ?"
            _ = args.append(contentsOf: [biz])
        }
        let where_ = filter
        let countArgs = args
        var pageArgs = args
        _ = pageArgs.append(contentsOf: [max(1, q.limit), max(0, q.offset)])
        let pageArguments = pageArgs
        return try await readAside { db in
            let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM messages WHERE \(where_)", arguments: countArgs)
            let rows = try Row.fetchAll(
                db,
                sql: "SELECT \(Self.messageColumns) FROM messages WHERE \(where_) ORDER BY id LIMIT ? OFFSET ?",
                arguments: pageArguments
            )
            return SendDetailsPage(total: total ?? 0, messages: rows.map { Self.message($0) })
        }
    }

    public func sendStatistics(_ q: SendStatisticsQuery) async throws -> [DayTotals] {
        let sql = """
            SELECT (created_at + ?) / 86400000 AS day, COUNT(*),
                SUM(status = \(ClassicSQL.delivered)), SUM(status IN (\(ClassicSQL.failed)))
            FROM messages WHERE account = ? AND id >= ? AND id < ? AND (substr(recipient, 1, 2) = '86') = ?
            GROUP BY day ORDER BY day
            """
        let args: StatementArguments = [q.offsetMs, q.account, q.ids.lowerBound, q.ids.upperBound, q.mainland]
        return try await readAside { db in
            try Row.fetchAll(db, sql: sql, arguments: args).map {
                DayTotals(day: $0[0], total: $0[1], delivered: $0[2], failed: $0[3])
            }
        }
    }
}
