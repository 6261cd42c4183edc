import GRDB
public import PetrelCore

extension SQLiteStore {
    public func applyReceipts(_ receipts: [CarrierReceipt]) async throws -> ReceiptResults {
        guard !receipts.isEmpty else { return ReceiptResults() }
        return try await committer.run(weight: receipts.count * 3) { db in
            var results = ReceiptResults()
            for r in receipts {
                guard let part = try Self.findPart(channel: r.channel, carrierId: r.carrierId, db) else {
                    try db.cachedStatement(
                        sql: "INSERT INTO orphan_receipts (channel, carrier_id, status, error_code, received_at) VALUES (?, ?, ?, ?, ?)"
                    ).execute(arguments: [r.channel, CarrierID.normalize(r.carrierId), r.status.rawValue, r.errorCode, r.atMs])
                    results.orphaned += 1
                    continue
                }
                results.matched += 1
                if let finished = try Self.applyPartReceipt(part.messageId, part.part, r, db) {
                    results.finished.append(finished)
                }
            }
            return results
        }
    }

    /// The part a carrier id names: the exact (normalised) id first, then its hex / decimal reading.
    static func findPart(channel: String, carrierId: String, _ db: Database) throws -> (messageId: Int64, part: Int)? {
        let lookup = try db.cachedStatement(
            sql: "SELECT message_id, part FROM message_parts WHERE channel = ? AND carrier_id = ? ORDER BY sent_at DESC LIMIT 1")
        for candidate in CarrierID.candidates(carrierId) {
            if let row = try Row.fetchOne(lookup, arguments: [channel, candidate]) {
                return (row[0], row[1])
            }
        }
        return nil
    }

    /// Records a part's final state; returns the message's status change once the message is decided:
    /// failed (or expired) as soon as any part is, delivered when every part is.
    static func applyPartReceipt(_ messageId: Int64, _ part: Int, _ r: CarrierReceipt, _ db: Database) throws -> StatusUpdate? {
        try db.cachedStatement(
            sql: "UPDATE message_parts SET status = ?, error_code = ?, done_at = ? WHERE message_id = ? AND part = ? AND status = 2"
        ).execute(arguments: [r.status.rawValue, r.errorCode, r.atMs, messageId, part])
        guard db.changesCount > 0 else { return nil }     // a duplicate receipt
        let rows = try Row.fetchAll(
            db.cachedStatement(sql: "SELECT status, error_code, total FROM message_parts WHERE message_id = ?"),
            arguments: [messageId])
        let total = rows.first.map { $0[2] as Int } ?? 1
        let states = rows.map { (MessageStatus(rawValue: $0[0]) ?? .sent, $0[1] as String) }
        let decided: StatusUpdate
        if let failed = states.first(where: { $0.0 == .failed }) {
            decided = StatusUpdate(id: messageId, status: .failed, errorCode: failed.1, errorDescription: receiptText(failed.1), atMs: r.atMs)
        } else if let expired = states.first(where: { $0.0 == .expired }) {
            decided = StatusUpdate(
                id: messageId, status: .expired, errorCode: expired.1.isEmpty ? "EXPIRED" : expired.1,
                errorDescription: "The carrier could not deliver the message before it expired", atMs: r.atMs)
        } else if states.filter({ $0.0 == .delivered }).count >= total {
            decided = StatusUpdate(id: messageId, status: .delivered, atMs: r.atMs)
        } else {
            return nil
        }
        return try apply([decided], db).first
    }

    static func receiptText(_ code: String) -> String {
        switch code {
        case "UNDELIV": return "The carrier reported the message undeliverable"
        case "REJECTD": return "The carrier rejected the message"
        case "DELETED": return "The carrier deleted the message"
        case "UNKNOWN": return "The carrier reported an unknown state"
        default: return "The carrier reported a failure (\(code))"
        }
    }

    /// Applies orphaned receipts that name one of these just-recorded parts.
    static func adoptOrphans(for records: [SentRecord], _ db: Database) throws -> [StatusUpdate] {
        var applied: [StatusUpdate] = []
        let find = try db.cachedStatement(
            sql: "SELECT rowid, status, error_code, received_at FROM orphan_receipts WHERE channel = ? AND carrier_id = ?")
        let delete = try db.cachedStatement(sql: "DELETE FROM orphan_receipts WHERE rowid = ?")
        for record in records {
            for p in record.parts {
                for candidate in CarrierID.candidates(p.carrierId) {
                    for row in try Row.fetchAll(find, arguments: [record.channel, candidate]) {
                        let receipt = CarrierReceipt(
                            channel: record.channel, carrierId: candidate, status: MessageStatus(rawValue: row[1]) ?? .failed,
                            errorCode: row[2], atMs: row[3])
                        if let done = try applyPartReceipt(record.id, p.part, receipt, db) { applied.append(done) }
                        try delete.execute(arguments: [row[0] as Int64])
                    }
                }
            }
        }
        return applied
    }
}
