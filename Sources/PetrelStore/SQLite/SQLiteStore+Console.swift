import GRDB
public import PetrelCore

extension SQLiteStore {
    public func searchMessages(_ q: MessageQuery) async throws -> [Message] {
        // Times become id ranges (ids begin with their acceptance time), so the primary key serves them.
        var filters = ""
        var args: [DatabaseValue] = []
        func filter(_ sql: String, _ value: some DatabaseValueConvertible) {
            filters += " AND \(sql)"
            args.append(value.databaseValue)
        }
        if !q.to.isEmpty { filter("recipient = ?", q.to) }
        if !q.taskId.isEmpty { filter("task_id = ?", q.taskId) }
        if let id = q.messageId { filter("id = ?", id) }
        if let status = q.status { filter("status = ?", status.rawValue) }
        // A page newer than `afterId` reads upwards from it, then shows newest first like every page.
        let order = q.afterId != nil && q.beforeId == nil ? "ASC" : "DESC"
        // The page's key and the time range, as id bounds.
        var key = ""
        var keyArgs: [DatabaseValue] = []
        func bound(_ sql: String, _ id: Int64) {
            key += " AND \(sql)"
            keyArgs.append(id.databaseValue)
        }
        if let before = q.beforeId { bound("id < ?", before) }
        if let after = q.afterId { bound("id > ?", after) }
        if let since = q.sinceMs { bound("id >= ?", MessageIDGenerator.firstId(atMs: since)) }
        if let until = q.untilMs { bound("id < ?", MessageIDGenerator.firstId(atMs: until)) }
        var source = "messages WHERE account = ?\(key)"
        var sourceArgs: [DatabaseValue] = [q.account.databaseValue] + keyArgs
        if q.isPatternSearch {
            if !q.toContains.isEmpty { filter("recipient LIKE ? ESCAPE '\\'", MessageQuery.likePattern(q.toContains)) }
            if !q.textContains.isEmpty {
                filter("lower(body) LIKE ? ESCAPE '\\'", MessageQuery.likePattern(q.textContains))
            }
            // LIKE reads rows one by one: only among the newest `scanLimit` of the account past the page's key (and
            // within the time range, so From/Until reach further back). Read as a subquery in id order that the
            // filters then run over, not as `id IN (…)`, which first made a table of those ids and then looked each
            // row up again (half the time of a search over 1,000,000 messages).
            source = "(SELECT * FROM \(source) ORDER BY id \(order) LIMIT ?) WHERE 1"
            sourceArgs.append(max(1, min(q.scanLimit, 1_000_000)).databaseValue)
        }
        let sql = "SELECT \(Self.messageColumns) FROM \(source)\(filters) ORDER BY id \(order) LIMIT ?"
        let arguments = StatementArguments(sourceArgs + args + [max(1, min(q.limit, 10_000)).databaseValue])
        let found = try readNow { db in try Row.fetchAll(db, sql: sql, arguments: arguments).map { Self.message($0) } }
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
