import GRDB
import GRDBSQLite
public import PetrelCore

extension SQLiteStore {
    public func applyReceipts(_ receipts: [CarrierReceipt]) async throws -> ReceiptResults {
        guard !receipts.isEmpty else { return ReceiptResults() }
        return try await committer.run(weight: receipts.count * 3) { db in
            var results = ReceiptResults()
            // Most receipts name a single-part message by the id it was stored under: all of those are looked
            // up in one statement and applied in another.
            let found = try Self.singlePartMessages(receipts, db)
            var updates: [StatusUpdate] = []
            for (i, r) in receipts.enumerated() {
                guard let (id, status) = found[i] else { continue }
                results.matched += 1
                if let change = ReceiptRules.change(r, messageId: id, from: status) { updates.append(change) }
            }
            results.finished += try Self.apply(updates, db)
            for (i, r) in receipts.enumerated() where found[i] == nil {
                // An exact match first (a part: no message holds this id): a learned reading is a rule of thumb, and
                // under it a receipt of a copy Petrel never recorded (its submit_sm_resp was lost) may name another
                // message.
                var outcome = try Self.matchPart(r, storedID: CarrierID.normalize(r.carrierId), db)
                if case .none = outcome, r.reading != .same, let stored = r.reading.storedID(r.carrierId) {
                    outcome = try Self.match(r, storedID: stored, db)
                }
                switch outcome {
                case .finished(let update):
                    results.matched += 1
                    results.finished.append(update)
                case .matched:
                    results.matched += 1
                case .none:
                    try db.cachedStatement(
                        sql: "INSERT INTO orphan_receipts (channel, carrier_id, status, error_code, received_at) VALUES (?, ?, ?, ?, ?)"
                    ).execute(arguments: [r.channel, CarrierID.normalize(r.carrierId), r.status.rawValue, r.errorCode, r.atMs])
                    results.orphaned += 1
                }
            }
            return results
        }
    }

    /// The single-part message each receipt names exactly (by its index in `receipts`), with its status. Where
    /// a carrier reused an id, the oldest message, as `match` finds it.
    static func singlePartMessages(_ receipts: [CarrierReceipt], _ db: Database) throws -> [Int: (Int64, MessageStatus)] {
        var found: [Int: (Int64, MessageStatus)] = [:]
        try ValuesList.run(
            receipts.indices, db,
            sql: Self.receiptLookupSQL,
            bind: { s, i in
                s.bind(i)
                s.bind(receipts[i].channel)
                s.bind(CarrierID.normalize(receipts[i].carrierId))
            },
            result: { row in
                let i = Int(sqlite3_column_int64(row, 0))
                let id = sqlite3_column_int64(row, 1)
                guard let status = MessageStatus(rawValue: Int(sqlite3_column_int64(row, 2))),
                    found[i].map({ id < $0.0 }) ?? true
                else { return }
                found[i] = (id, status)
            })
        return found
    }

    enum Match {
        case finished(StatusUpdate)
        case matched          // a known id, but nothing changes (a duplicate, or another part still pending)
        case none
    }

    /// Applies a receipt to the single-part message or the part stored under `storedID`.
    static func match(_ r: CarrierReceipt, storedID: String, _ db: Database) throws -> Match {
        let lookup = try db.cachedStatement(
            // `carrier_id != ''` lets SQLite use the partial index messages_carrier.
            sql: "SELECT id, status FROM messages WHERE channel = ? AND carrier_id = ? AND carrier_id != ''")
        guard let row = try Row.fetchOne(lookup, arguments: [r.channel, storedID]) else { return try matchPart(r, storedID: storedID, db) }
        guard let status = MessageStatus(rawValue: row[1]), let change = ReceiptRules.change(r, messageId: row[0], from: status),
            let applied = try apply([change], db).first
        else { return .matched }
        return .finished(applied)
    }

    /// Applies a receipt to the part stored under `storedID`.
    static func matchPart(_ r: CarrierReceipt, storedID: String, _ db: Database) throws -> Match {
        guard let part = try findPart(channel: r.channel, storedID: storedID, db) else { return .none }
        if let done = try applyPartReceipt(part.messageId, part.part, r, db, total: part.total) { return .finished(done) }
        return .matched
    }

    /// The most recent part stored under a (normalised) carrier id.
    static func findPart(channel: String, storedID: String, _ db: Database) throws -> (messageId: Int64, part: Int, total: Int)? {
        let lookup = try db.cachedStatement(
            sql: "SELECT message_id, part, total FROM message_parts WHERE channel = ? AND carrier_id = ? ORDER BY sent_at DESC LIMIT 1")
        return try Row.fetchOne(lookup, arguments: [channel, storedID]).map { ($0[0], $0[1], $0[2]) }
    }

    public func resolveOrphans(beforeMs: Int64) async throws -> ReceiptResults {
        try await committer.run(weight: 1000) { db in
            var results = ReceiptResults()
            let orphans = try Row.fetchAll(
                db, sql: "SELECT rowid, channel, carrier_id, status, error_code, received_at FROM orphan_receipts WHERE received_at < ? LIMIT 10000",
                arguments: [beforeMs])
            // Evidence first: under which other reading does each old orphan name a known message?
            var examined: [String: Int] = [:]
            var hits: [String: [CarrierID.Reading: [Int]]] = [:]
            for (i, row) in orphans.enumerated() {
                let channel: String = row[1]
                let id: String = row[2]
                // The same reading first: a receipt and the record of its submit can cross (on a shared store,
                // each committed by another node), leaving an orphan that now matches exactly.
                let exact = CarrierReceipt(
                    channel: channel, carrierId: id, status: MessageStatus(rawValue: row[3]) ?? .failed, errorCode: row[4], atMs: row[5])
                switch try Self.match(exact, storedID: id, db) {
                case .none: break
                case .finished(let done):
                    results.finished.append(done)
                    fallthrough
                case .matched:
                    try db.execute(sql: "DELETE FROM orphan_receipts WHERE rowid = ?", arguments: [row[0] as Int64])
                    results.matched += 1
                    continue
                }
                examined[channel, default: 0] += 1
                for reading in CarrierID.Reading.allCases where reading != .same {
                    guard let stored = reading.storedID(id), try Self.isKnown(channel: channel, storedID: stored, db) else { continue }
                    hits[channel, default: [:]][reading, default: []].append(i)
                }
            }
            for (channel, reading, indexes) in ReceiptRules.trustedReadings(examined: examined, hits: hits) {
                for i in indexes {
                    let row = orphans[i]
                    let id: String = row[2]
                    let receipt = CarrierReceipt(
                        channel: channel, carrierId: id, status: MessageStatus(rawValue: row[3]) ?? .failed, errorCode: row[4],
                        atMs: row[5])
                    guard let stored = reading.storedID(id) else { continue }
                    if case .finished(let done) = try Self.match(receipt, storedID: stored, db) { results.finished.append(done) }
                    try db.execute(sql: "DELETE FROM orphan_receipts WHERE rowid = ?", arguments: [row[0] as Int64])
                    results.matched += 1
                }
                results.readings[channel] = [reading: indexes.count]
            }
            return results
        }
    }

    /// Whether a message or part was stored under this carrier id.
    static func isKnown(channel: String, storedID: String, _ db: Database) throws -> Bool {
        try Bool.fetchOne(
            db.cachedStatement(
                sql: """
                    SELECT EXISTS (SELECT 1 FROM messages WHERE channel = ? AND carrier_id = ? AND carrier_id != '')
                        OR EXISTS (SELECT 1 FROM message_parts WHERE channel = ? AND carrier_id = ?)
                    """),
            arguments: [channel, storedID, channel, storedID]) == true
    }

    /// Records a part's final state; returns the message's status change once the message is decided:
    /// failed (or expired) as soon as any part is, delivered when every part is.
    static func applyPartReceipt(
        _ messageId: Int64, _ part: Int, _ r: CarrierReceipt, _ db: Database, total: Int? = nil
    ) throws -> StatusUpdate? {
        try FastStatement.run(
            try db.cachedStatement(
                sql: "UPDATE message_parts SET status = ?, error_code = ?, done_at = ? WHERE message_id = ? AND part = ? AND status = 2"),
            db
        ) { s in
            s.bind(r.status.rawValue)
            s.bind(r.errorCode)
            s.bind(r.atMs)
            s.bind(messageId)
            s.bind(part)
        }
        guard db.changesCount > 0 else { return nil }     // a duplicate receipt
        let states: [(MessageStatus, String)]
        if total == 1 {
            states = [(r.status, r.errorCode)]             // a single part decides alone
        } else {
            states = try Row.fetchAll(
                db.cachedStatement(sql: "SELECT status, error_code FROM message_parts WHERE message_id = ?"), arguments: [messageId]
            ).map { (MessageStatus(rawValue: $0[0]) ?? .sent, $0[1] as String) }
        }
        let total = try total ?? Int.fetchOne(
            db.cachedStatement(sql: "SELECT total FROM message_parts WHERE message_id = ? LIMIT 1"), arguments: [messageId]) ?? 1
        guard let decided = ReceiptRules.decide(messageId: messageId, parts: states, total: total, atMs: r.atMs) else { return nil }
        return try apply([decided], db).first
    }

    /// Applies orphaned receipts that name one of these just-recorded parts.
    static func adoptOrphans(for records: [SentRecord], _ db: Database) throws -> [StatusUpdate] {
        var applied: [StatusUpdate] = []
        let find = try db.cachedStatement(
            sql: "SELECT rowid, status, error_code, received_at FROM orphan_receipts WHERE channel = ? AND carrier_id = ?")
        let delete = try db.cachedStatement(sql: "DELETE FROM orphan_receipts WHERE rowid = ?")
        for record in records {
            for p in record.parts {
                // Only the same reading here: another reading of a young orphan could be a different message.
                let stored = CarrierID.normalize(p.carrierId)
                for row in try Row.fetchAll(find, arguments: [record.channel, stored]) {
                    let receipt = CarrierReceipt(
                        channel: record.channel, carrierId: p.carrierId, status: MessageStatus(rawValue: row[1]) ?? .failed,
                        errorCode: row[2], atMs: row[3])
                    if case .finished(let done) = try match(receipt, storedID: stored, db) { applied.append(done) }
                    try delete.execute(arguments: [row[0] as Int64])
                }
            }
        }
        return applied
    }

    static let receiptLookupSQL = ValuesList.SQL { k in
        """
        WITH r(i, channel, carrier_id) AS (VALUES \(ValuesList.placeholders(rows: k, columns: 3)))
        SELECT r.i, m.id, m.status FROM r
        JOIN messages AS m ON m.channel = r.channel AND m.carrier_id = r.carrier_id AND m.carrier_id != ''
        """
    }
}
