import GRDB
public import PetrelCore

extension SQLiteStore {
    public func searchMessages(_ q: MessageQuery) async throws -> [Message] {
        // Times become id ranges (ids begin with their acceptance time), so the primary key serves them.
        var sql = "SELECT \(Self.messageColumns) FROM messages WHERE account = ?"
        var args: StatementArguments = [q.account]
        if !q.to.isEmpty {
            sql += " AND recipient = ?"
            _ = args.append(contentsOf: [q.to])
        }
        if !q.taskId.isEmpty {
            sql += " AND task_id = ?"
            _ = args.append(contentsOf: [q.taskId])
        }
        if let id = q.messageId {
            sql += " AND id = ?"
            _ = args.append(contentsOf: [id])
        }
        if let status = q.status {
            sql += " AND status = ?"
            _ = args.append(contentsOf: [status.rawValue])
        }
        if let since = q.sinceMs {
            sql += " AND id >= ?"
            _ = args.append(contentsOf: [MessageIDGenerator.firstId(atMs: since)])
        }
        if let until = q.untilMs {
            sql += " AND id < ?"
            _ = args.append(contentsOf: [MessageIDGenerator.firstId(atMs: until)])
        }
        // A page newer than `afterId` reads upwards from it, then shows newest first like every page.
        let order = q.afterId != nil && q.beforeId == nil ? "ASC" : "DESC"
        var key = ""
        var keyArgs: [Int64] = []
        if let before = q.beforeId {
            key += " AND id < ?"
            keyArgs.append(before)
        }
        if let after = q.afterId {
            key += " AND id > ?"
            keyArgs.append(after)
        }
        sql += key
        _ = args.append(contentsOf: StatementArguments(keyArgs))
        // The time range bounds the scan below too, so From/Until reach past the newest `scanLimit`.
        if let since = q.sinceMs {
            key += " AND id >= ?"
            keyArgs.append(MessageIDGenerator.firstId(atMs: since))
        }
        if let until = q.untilMs {
            key += " AND id < ?"
            keyArgs.append(MessageIDGenerator.firstId(atMs: until))
        }
        if q.isPatternSearch {
            // LIKE reads rows one by one: only among the newest `scanLimit` of the account past the page's key.
            if !q.toContains.isEmpty {
                sql += " AND recipient LIKE ? ESCAPE '\\'"
                _ = args.append(contentsOf: [MessageQuery.likePattern(q.toContains)])
            }
            if !q.textContains.isEmpty {
                sql += " AND lower(body) LIKE ? ESCAPE '\\'"
                _ = args.append(contentsOf: [MessageQuery.likePattern(q.textContains)])
            }
            sql += " AND id IN (SELECT id FROM messages WHERE account = ?\(key) ORDER BY id \(order) LIMIT ?)"
            _ = args.append(contentsOf: [q.account])
            _ = args.append(contentsOf: StatementArguments(keyArgs))
            _ = args.append(contentsOf: [max(1, min(q.scanLimit, 1_000_000))])
        }
        sql += " ORDER BY id \(order) LIMIT ?"
        _ = args.append(contentsOf: [max(1, min(q.limit, 10_000))])
        let query = sql
        let arguments = args
        let found = try readNow { db in try Row.fetchAll(db, sql: query, arguments: arguments).map { Self.message($0) }
        }
        return order == "ASC" ? found.reversed() : found
    }

    public func parts(messageId: Int64) async throws -> [PartView] {
        try readNow { db in try Self.parts(messageId: messageId, db) }
    }

    /// A message's parts as carriers accepted them (the console's parts table and the timeline).
    static func parts(messageId: Int64, _ db: Database) throws -> [PartView] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT part, total, channel, carrier_id, status, error_code, sent_at, done_at
                FROM message_parts WHERE message_id = ? ORDER BY part
                """,
            arguments: [messageId]
        ).map {
            PartView(
                part: $0[0],
                total: $0[1],
                channel: $0[2],
                carrierId: $0[3],
                status: MessageStatus(rawValue: $0[4]) ?? .sent,
                errorCode: $0[5],
                sentAtMs: $0[6],
                doneAtMs: $0[7]
            )
        }
    }

    public func statusSeries(account: String, sinceMs: Int64, bucketMs: Int64) async throws -> [StatusBucket] {
        let bucket = max(bucketMs, 1)
        let rows = try readNow { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT (created_at - ?) / ? AS b, status, COUNT(*) FROM messages
                    WHERE id >= ? AND account = ? AND created_at >= ? GROUP BY b, status ORDER BY b
                    """,
                arguments: [sinceMs, bucket, MessageIDGenerator.firstId(atMs: sinceMs), account, sinceMs]
            )
        }
        var buckets: [Int64: [MessageStatus: Int]] = [:]
        for row in rows {
            let b: Int64 = row[0]
            if let s = MessageStatus(rawValue: row[1]) { buckets[b, default: [:]][s, default: 0] += row[2] as Int }
        }
        return buckets.keys.sorted().map { StatusBucket(startMs: sinceMs + $0 * bucket, counts: buckets[$0]!) }
    }
}
