import GRDB
public import PetrelCore

extension SQLiteStore {
    public func record(_ r: DispatchResults) async throws -> [StatusUpdate] {
        guard !r.isEmpty else { return [] }
        let weight = r.sent.count * 3 + r.inbox.count + r.failed.count * 2 + r.retry.count + r.acceptedParts.count
        return try await committer.run(weight: weight) { db in
            try Self.markSent(r.sent, db)
            try Self.insertInbox(r.inbox, db)
            for partial in r.acceptedParts { try Self.insertParts(partial, db) }
            var applied = try Self.apply(r.failed, db)
            try Self.requeue(r.retry, db)
            // Receipts that overtook their submit_sm_resp can be matched now.
            if try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM orphan_receipts)") == true {
                applied += try Self.adoptOrphans(for: r.sent + r.acceptedParts, db)
            }
            return applied
        }
    }

    /// Marks messages sent that were `from` (submitting, or queued when claimed and sent in one write).
    static func markSent(_ records: [SentRecord], from: MessageStatus = .submitting, _ db: Database) throws {
        guard !records.isEmpty else { return }
        // Single-part messages (most) set-based; the id goes on the message row (indexed for receipts).
        try ValuesList.run(
            records.lazy.filter { $0.parts.count <= 1 },
            db,
            sql: Self.markSentSQL[from]!,
            bind: { s, r in
                let receipt = r.scheduledReceipt
                s.bind(r.id)
                s.bind(r.sentAtMs)
                s.bind(r.channel)
                s.bind(r.parts.count == 1 ? CarrierID.normalize(r.parts[0].carrierId) : r.carrierMessageId)
                s.bind(receipt?.atMs)
                s.bind(receipt.map { Int64($0.status.rawValue) })
                s.bind(receipt?.errorCode)
                s.bind(receipt?.errorDescription)
            }
        )
        // Several parts: each part has its row, written only if the message was still being submitted.
        let update = try db.cachedStatement(
            sql: """
                UPDATE messages
                SET status = \(MessageStatus.sent.sql), sent_at = ?, channel = ?, carrier_id = '', lease_until = NULL,
                    receipt_due = ?, receipt_status = ?, receipt_code = ?, receipt_desc = ?
                WHERE id = ? AND status = \(from.rawValue)
                """
        )
        for r in records where r.parts.count > 1 {
            let receipt = r.scheduledReceipt
            try FastStatement.run(update, db) { s in
                s.bind(r.sentAtMs)
                s.bind(r.channel)
                s.bind(receipt?.atMs)
                s.bind(receipt.map { Int64($0.status.rawValue) })
                s.bind(receipt?.errorCode)
                s.bind(receipt?.errorDescription)
                s.bind(r.id)
            }
            guard db.changesCount > 0 else { continue }
            try insertParts(r, db)
        }
    }

    static func insertParts(_ r: SentRecord, _ db: Database) throws {
        guard !r.parts.isEmpty else { return }
        let insert = try db.cachedStatement(
            sql: """
                INSERT OR REPLACE INTO message_parts (message_id, part, total, channel, carrier_id, status, sent_at)
                VALUES (?, ?, ?, ?, ?, 2, ?)
                """
        )
        for p in r.parts {
            try FastStatement.run(insert, db) { s in
                s.bind(r.id)
                s.bind(p.part)
                s.bind(p.total)
                s.bind(r.channel)
                s.bind(CarrierID.normalize(p.carrierId))
                s.bind(r.sentAtMs)
            }
        }
    }

    static func insertInbox(_ entries: [SandboxEntry], _ db: Database) throws {
        try ValuesList.run(
            entries,
            db,
            sql: Self.insertInboxSQL,
            bind: { s, e in
                s.bind(e.messageId)
                s.bind(e.account)
                s.bind(e.to)
                s.bind(e.from)
                s.bind(e.text)
                s.bind(e.segments)
                s.bind(e.receivedAtMs)
                s.bind(e.outcome)
            }
        )
    }

    public func acceptedParts(messageIds: [Int64]) async throws -> [Int64: Set<Int>] {
        guard !messageIds.isEmpty else { return [:] }
        return try readNow { db in
            var result: [Int64: Set<Int>] = [:]
            let statement = try db.cachedStatement(sql: "SELECT part FROM message_parts WHERE message_id = ?")
            for id in messageIds {
                let parts = try Int.fetchAll(statement, arguments: [id])
                if !parts.isEmpty { result[id] = Set(parts) }
            }
            return result
        }
    }

    public func dropOrphanReceipts(beforeMs: Int64) async throws -> Int {
        try await committer.run(weight: 100) { db in
            try db.execute(sql: "DELETE FROM orphan_receipts WHERE received_at < ?", arguments: [beforeMs])
            return db.changesCount
        }
    }

    /// By the state the messages are marked sent from.
    static let markSentSQL = Dictionary(
        uniqueKeysWithValues: MessageStatus.allCases.map { from in
            (
                from,
                ValuesList.SQL { k in
                    """
                    WITH r(id, sent_at, channel, carrier_id, due, due_status, due_code, due_desc) AS (
                        VALUES \(ValuesList.placeholders(rows: k, columns: 8)))
                    UPDATE messages SET status = \(MessageStatus.sent.sql), sent_at = r.sent_at, channel = r.channel,
                        carrier_id = r.carrier_id,
                        lease_until = NULL, receipt_due = r.due, receipt_status = r.due_status, receipt_code = r.due_code,
                        receipt_desc = r.due_desc
                    FROM r WHERE messages.id = r.id AND messages.status = \(from.rawValue)
                    """
                }
            )
        }
    )

    static let insertInboxSQL = ValuesList.SQL { k in
        """
        INSERT INTO sandbox_inbox (message_id, account, recipient, sender, body, segments, received_at, outcome)
        VALUES \(ValuesList.placeholders(rows: k, columns: 8))
        """
    }
}
