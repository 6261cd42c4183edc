import GRDB
public import PetrelCore

extension SQLiteStore {
    public func claim(limit: Int, nowMs: Int64, leaseMs: Int64) async throws -> [Message] {
        try await pool.write { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM messages WHERE status = 0 AND not_before <= ?
                    ORDER BY priority, not_before LIMIT ?
                    """,
                arguments: [nowMs, limit])
            guard !rows.isEmpty else { return [] }
            let update = try db.cachedStatement(sql: "UPDATE messages SET status = 1, lease_until = ? WHERE id = ?")
            var claimed: [Message] = []
            claimed.reserveCapacity(rows.count)
            for row in rows {
                var m = Self.message(row)
                try update.execute(arguments: [nowMs + leaseMs, m.id])
                m.status = .submitting
                claimed.append(m)
            }
            return claimed
        }
    }

    public func markSent(_ records: [SentRecord], sandbox: [SandboxEntry]) async throws {
        guard !records.isEmpty || !sandbox.isEmpty else { return }
        try await pool.write { db in
            let update = try db.cachedStatement(
                sql: """
                    UPDATE messages SET status = 2, sent_at = ?, channel = ?, carrier_id = ?, lease_until = NULL,
                        receipt_due = ?, receipt_status = ?, receipt_code = ?, receipt_desc = ?
                    WHERE id = ? AND status = 1
                    """)
            let event = try db.cachedStatement(
                sql: "INSERT INTO message_events (message_id, at, status, detail) VALUES (?, ?, ?, ?)")
            for r in records {
                let receipt = r.scheduledReceipt
                try update.execute(arguments: [
                    r.sentAtMs, r.channel, r.carrierMessageId, receipt?.atMs, receipt?.status.rawValue, receipt?.errorCode,
                    receipt?.errorDescription, r.id,
                ])
                if db.changesCount > 0 {
                    try event.execute(arguments: [r.id, r.sentAtMs, MessageStatus.sent.rawValue, "channel \(r.channel), id \(r.carrierMessageId)"])
                }
            }
            let inbox = try db.cachedStatement(
                sql: """
                    INSERT INTO sandbox_inbox (message_id, account, recipient, sender, body, segments, received_at, outcome)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            for e in sandbox {
                try inbox.execute(arguments: [e.messageId, e.account, e.to, e.from, e.text, e.segments, e.receivedAtMs, e.outcome])
            }
        }
    }

    @discardableResult
    public func apply(_ updates: [StatusUpdate]) async throws -> [StatusUpdate] {
        guard !updates.isEmpty else { return [] }
        return try await pool.write { db in try Self.apply(updates, db) }
    }

    static func apply(_ updates: [StatusUpdate], _ db: Database) throws -> [StatusUpdate] {
        let current = try db.cachedStatement(sql: "SELECT status FROM messages WHERE id = ?")
        let update = try db.cachedStatement(
            sql: """
                UPDATE messages SET status = ?, error_code = ?, error_desc = ?, lease_until = NULL, receipt_due = NULL,
                    done_at = CASE WHEN ? THEN ? ELSE done_at END,
                    sent_at = CASE WHEN ? = 2 THEN ? ELSE sent_at END
                WHERE id = ?
                """)
        let event = try db.cachedStatement(
            sql: "INSERT INTO message_events (message_id, at, status, detail) VALUES (?, ?, ?, ?)")
        var applied: [StatusUpdate] = []
        for u in updates {
            guard let raw = try Int.fetchOne(current, arguments: [u.id]), let status = MessageStatus(rawValue: raw),
                status.canMove(to: u.status)
            else { continue }
            try update.execute(arguments: [
                u.status.rawValue, u.errorCode, u.errorDescription, u.status.isFinal, u.atMs, u.status.rawValue, u.atMs, u.id,
            ])
            let detail = u.errorCode.isEmpty ? "" : "\(u.errorCode): \(u.errorDescription)"
            try event.execute(arguments: [u.id, u.atMs, u.status.rawValue, detail])
            applied.append(u)
        }
        return applied
    }

    public func requeue(ids: [Int64], notBeforeMs: Int64) async throws {
        guard !ids.isEmpty else { return }
        try await pool.write { db in
            let update = try db.cachedStatement(
                sql: "UPDATE messages SET status = 0, lease_until = NULL, not_before = ? WHERE id = ? AND status = 1")
            for id in ids { try update.execute(arguments: [notBeforeMs, id]) }
        }
    }

    public func requeueExpiredLeases(nowMs: Int64) async throws -> Int {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE messages SET status = 0, lease_until = NULL WHERE status = 1 AND lease_until < ?",
                arguments: [nowMs])
            return db.changesCount
        }
    }

    public func expireQueued(nowMs: Int64) async throws -> [StatusUpdate] {
        try await pool.write { db in
            let ids = try Int64.fetchAll(
                db, sql: "SELECT id FROM messages WHERE status = 0 AND expires_at IS NOT NULL AND expires_at <= ? LIMIT 10000",
                arguments: [nowMs])
            let updates = ids.map {
                StatusUpdate(
                    id: $0, status: .expired, errorCode: "EXPIRED",
                    errorDescription: "The validity period ended before the message could be sent", atMs: nowMs)
            }
            return try Self.apply(updates, db)
        }
    }

    public func dueReceipts(nowMs: Int64, limit: Int) async throws -> [StatusUpdate] {
        try readNow { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT id, receipt_due, receipt_status, receipt_code, receipt_desc FROM messages
                    WHERE receipt_due IS NOT NULL AND receipt_due <= ? ORDER BY receipt_due LIMIT ?
                    """,
                arguments: [nowMs, limit]
            ).map { row in
                StatusUpdate(
                    id: row["id"], status: MessageStatus(rawValue: row["receipt_status"]) ?? .delivered,
                    errorCode: row["receipt_code"] ?? "", errorDescription: row["receipt_desc"] ?? "", atMs: row["receipt_due"])
            }
        }
    }

    public func counts() async throws -> [MessageStatus: Int] {
        try readNow { db in
            var result: [MessageStatus: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT status, COUNT(*) AS n FROM messages GROUP BY status") {
                if let s = MessageStatus(rawValue: row["status"]) { result[s] = row["n"] }
            }
            return result
        }
    }

    public func sandboxMessages(to: String?, limit: Int) async throws -> [SandboxEntry] {
        try readNow { db in
            let rows: [Row]
            if let to {
                rows = try Row.fetchAll(
                    db, sql: "SELECT * FROM sandbox_inbox WHERE recipient = ? ORDER BY received_at DESC, rowid DESC LIMIT ?",
                    arguments: [to, limit])
            } else {
                rows = try Row.fetchAll(db, sql: "SELECT * FROM sandbox_inbox ORDER BY received_at DESC, rowid DESC LIMIT ?", arguments: [limit])
            }
            return rows.map {
                SandboxEntry(
                    messageId: $0["message_id"], account: $0["account"], to: $0["recipient"], from: $0["sender"],
                    text: $0["body"], segments: $0["segments"], receivedAtMs: $0["received_at"], outcome: $0["outcome"])
            }
        }
    }

    public func clearSandbox() async throws -> Int {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM sandbox_inbox")
            return db.changesCount
        }
    }
}
