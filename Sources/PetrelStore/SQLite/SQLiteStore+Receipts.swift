import GRDB
import GRDBSQLite
import PetrelCore

extension SQLiteStore {
    public func applyReceipts(_ receipts: [CarrierReceipt]) async throws -> ReceiptResults {
        guard !receipts.isEmpty else { return ReceiptResults() }
        return try await committer.run(weight: receipts.count * 3) { db in
            // Most receipts name a single-part message by the id it was stored under: all of those are looked
            // up in one statement and applied in another. The rest go through the matcher one by one.
            let (changes, found) = ReceiptMatcher.singlePart(receipts, rows: try Self.singlePartMessages(receipts, db))
            let finished = try Self.apply(changes, db)
            var matcher = ReceiptMatcher.receipts(receipts.indices.filter { !found[$0] }.map { receipts[$0] })
            var results = try matcher.run(SQLiteReceiptLookups(db: db))
            results.matched += found.count(where: { $0 })
            results.finished = finished + results.finished
            return results
        }
    }

    /// The single-part messages each receipt names exactly (receipt index, message id, status).
    static func singlePartMessages(
        _ receipts: [CarrierReceipt],
        _ db: Database
    ) throws -> [(index: Int, id: Int64, status: MessageStatus?)] {
        var rows: [(index: Int, id: Int64, status: MessageStatus?)] = []
        try ValuesList.run(
            receipts.indices,
            db,
            sql: Self.receiptLookupSQL,
            bind: { s, i in
                s.bind(i)
                s.bind(receipts[i].channel)
                s.bind(CarrierID.normalize(receipts[i].carrierId))
            },
            result: { row in
                rows.append(
                    (
                        Int(sqlite3_column_int64(row, 0)), sqlite3_column_int64(row, 1),
                        MessageStatus(rawValue: Int(sqlite3_column_int64(row, 2)))
                    )
                )
            }
        )
        return rows
    }

    public func resolveOrphans(beforeMs: Int64) async throws -> ReceiptResults {
        try await committer.run(weight: 1000) { db in
            let orphans = try Row.fetchAll(
                db,
                sql: """
                    SELECT rowid, channel, carrier_id, status, error_code, received_at FROM orphan_receipts
                    WHERE received_at < ? LIMIT 10000
                    """,
                arguments: [beforeMs]
            ).map(Self.orphan)
            var matcher = ReceiptMatcher.resolve(orphans)
            return try matcher.run(SQLiteReceiptLookups(db: db))
        }
    }

    /// Applies orphaned receipts that name one of these just-recorded parts.
    static func adoptOrphans(for records: [SentRecord], _ db: Database) throws -> [StatusUpdate] {
        let find = try db.cachedStatement(
            sql: """
                SELECT rowid, channel, carrier_id, status, error_code, received_at FROM orphan_receipts
                WHERE channel = ? AND carrier_id = ?
                """
        )
        var orphans: [ReceiptMatcher.Orphan] = []
        for record in records {
            for p in record.parts {
                let stored = CarrierID.normalize(p.carrierId)
                orphans += try Row.fetchAll(find, arguments: [record.channel, stored]).map(orphan)
            }
        }
        guard !orphans.isEmpty else { return [] }
        var matcher = ReceiptMatcher.adopt(orphans)
        return try matcher.run(SQLiteReceiptLookups(db: db)).finished
    }

    /// An orphan_receipts row: rowid, channel, carrier_id, status, error_code, received_at.
    static func orphan(_ row: Row) -> ReceiptMatcher.Orphan {
        ReceiptMatcher.Orphan(
            key: row[0],
            receipt: CarrierReceipt(
                channel: row[1],
                carrierId: row[2],
                status: MessageStatus(rawValue: row[3]) ?? .failed,
                errorCode: row[4],
                atMs: row[5]
            )
        )
    }

    static let receiptLookupSQL = ValuesList.SQL { k in
        """
        WITH r(i, channel, carrier_id) AS (VALUES \(ValuesList.placeholders(rows: k, columns: 3)))
        SELECT r.i, m.id, m.status FROM r
        JOIN messages AS m ON m.channel = r.channel AND m.carrier_id = r.carrier_id AND m.carrier_id != ''
        """
    }
}

/// The matcher's questions in SQL, inside the writer's transaction.
struct SQLiteReceiptLookups: ReceiptLookups {
    let db: Database

    func message(channel: String, storedID: String) throws -> (id: Int64, status: MessageStatus?)? {
        let lookup = try db.cachedStatement(
            // `carrier_id != ''` lets SQLite use the partial index messages_carrier; the oldest where an id was reused.
            sql: """
                SELECT id, status FROM messages WHERE channel = ? AND carrier_id = ? AND carrier_id != ''
                ORDER BY id LIMIT 1
                """
        )
        return try Row.fetchOne(lookup, arguments: [channel, storedID]).map { ($0[0], MessageStatus(rawValue: $0[1])) }
    }

    func part(channel: String, storedID: String) throws -> ReceiptMatcher.StoredPart? {
        let lookup = try db.cachedStatement(
            sql: """
                SELECT message_id, part, total FROM message_parts WHERE channel = ? AND carrier_id = ?
                ORDER BY sent_at DESC LIMIT 1
                """
        )
        return try Row.fetchOne(lookup, arguments: [channel, storedID]).map {
            ReceiptMatcher.StoredPart(messageId: $0[0], part: $0[1], total: $0[2])
        }
    }

    func markPart(_ part: ReceiptMatcher.StoredPart, _ r: CarrierReceipt) throws -> Bool {
        try FastStatement.run(
            try db.cachedStatement(
                sql: """
                    UPDATE message_parts SET status = ?, error_code = ?, done_at = ?
                    WHERE message_id = ? AND part = ? AND status = \(MessageStatus.sent.rawValue)
                    """
            ),
            db
        ) { s in
            s.bind(r.status.rawValue)
            s.bind(r.errorCode)
            s.bind(r.atMs)
            s.bind(part.messageId)
            s.bind(part.part)
        }
        return db.changesCount > 0
    }

    func partStates(messageId: Int64) throws -> [(MessageStatus, String)] {
        try Row.fetchAll(
            db.cachedStatement(sql: "SELECT status, error_code FROM message_parts WHERE message_id = ?"),
            arguments: [messageId]
        ).map { (MessageStatus(rawValue: $0[0]) ?? .sent, $0[1] as String) }
    }

    func apply(_ update: StatusUpdate) throws -> StatusUpdate? {
        try SQLiteStore.apply([update], db).first
    }

    func isKnown(channel: String, storedID: String) throws -> Bool {
        try Bool.fetchOne(
            db.cachedStatement(
                sql: """
                    SELECT EXISTS (SELECT 1 FROM messages WHERE channel = ? AND carrier_id = ? AND carrier_id != '')
                        OR EXISTS (SELECT 1 FROM message_parts WHERE channel = ? AND carrier_id = ?)
                    """
            ),
            arguments: [channel, storedID, channel, storedID]
        ) == true
    }

    func keepOrphan(_ r: CarrierReceipt) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO orphan_receipts (channel, carrier_id, status, error_code, received_at)
                VALUES (?, ?, ?, ?, ?)
                """
        ).execute(arguments: [r.channel, r.carrierId, r.status.rawValue, r.errorCode, r.atMs])
    }

    func dropOrphan(key: Int64) throws {
        try db.cachedStatement(sql: "DELETE FROM orphan_receipts WHERE rowid = ?").execute(arguments: [key])
    }
}
