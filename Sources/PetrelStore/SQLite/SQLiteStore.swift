import Foundation
import GRDB
public import PetrelCore

/// The embedded store: one SQLite file in WAL mode, `synchronous=FULL`, writes group-committed.
public final class SQLiteStore: MessageStore {
    let pool: DatabasePool
    let secrets: SecretBox
    private let committer: GroupCommitter

    /// Opens (creating if needed) `petrel.sqlite` in `directory` and migrates it.
    public init(directory: String, secrets: SecretBox) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var config = Configuration()
        config.busyMode = .timeout(10)
        config.foreignKeysEnabled = false
        config.label = "petrel"
        let path = (directory as NSString).appendingPathComponent("petrel.sqlite")
        let pool = try DatabasePool(path: path, configuration: config)
        // GRDB sets synchronous=NORMAL on the writer after prepareDatabase; FULL must be set afterwards.
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        try SQLiteSchema.migrator().migrate(pool)
        self.pool = pool
        self.secrets = secrets
        self.committer = GroupCommitter(writer: pool) { db, batch in try SQLiteStore.write(batch, db) }
    }

    public func close() async throws {
        committer.stop()
        try pool.close()
    }

    /// The `synchronous` level of the writer connection (2 = FULL), for tests and benchmarks.
    public func synchronousLevel() throws -> Int {
        try pool.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
    }

    public func journalMode() throws -> String {
        try readNow { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "" }
    }

    // MARK: Accept path

    public func commit(_ batch: WriteBatch) async throws {
        guard !batch.isEmpty else { return }
        try await committer.submit(batch)
    }

    static let insertMessage = """
        INSERT INTO messages (id, account, recipient, sender, body, type, task_id, requested_channel, priority,
            segments, encoding, status, error_code, error_desc, created_at, not_before, expires_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """

    static func write(_ batch: WriteBatch, _ db: Database) throws {
        if let nonce = batch.nonce {
            try db.cachedStatement(sql: "INSERT OR IGNORE INTO nonces (hash, expires_at) VALUES (?, ?)")
                .execute(arguments: [nonce.hash, nonce.expiresAtMs])
        }
        if !batch.messages.isEmpty {
            let statement = try db.cachedStatement(sql: insertMessage)
            for m in batch.messages {
                try statement.execute(arguments: [
                    m.id, m.account, m.to, m.from, m.text, m.type.rawValue, m.taskId, m.requestedChannel,
                    m.priority.rawValue, m.segments, m.encoding.rawValue, m.status.rawValue, m.errorCode,
                    m.errorDescription, m.createdAtMs, m.notBeforeMs, m.expiresAtMs,
                ])
            }
        }
        for c in batch.conversions {
            try db.execute(
                sql: """
                    INSERT INTO conversions (account, message_id, recipient, delivered, conversion_time, received_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [c.account, c.messageId, c.to, c.delivered, c.conversionTimeMs, c.receivedAtMs])
        }
        for d in batch.conversionData {
            try db.execute(
                sql: "INSERT INTO conversion_data (account, rate, report_time, received_at) VALUES (?, ?, ?, ?)",
                arguments: [d.account, d.rate, d.reportTimeMs, d.receivedAtMs])
        }
    }

    public func message(id: Int64, account: String) async throws -> Message? {
        try readNow { db in
            try Row.fetchOne(db, sql: "SELECT * FROM messages WHERE id = ? AND account = ?", arguments: [id, account])
                .map(Self.message)
        }
    }

    public func events(messageId: Int64) async throws -> [MessageEvent] {
        try readNow { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM message_events WHERE message_id = ? ORDER BY at, rowid", arguments: [messageId]
            ).map { row in
                MessageEvent(
                    messageId: row["message_id"], status: MessageStatus(rawValue: row["status"]) ?? .queued,
                    atMs: row["at"], detail: row["detail"])
            }
        }
    }

    public func maxMessageId() async throws -> Int64 {
        try readNow { db in try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM messages") ?? 0 }
    }

    public func liveNonces(nowMs: Int64) async throws -> [NonceRecord] {
        try readNow { db in
            try Row.fetchAll(db, sql: "SELECT hash, expires_at FROM nonces WHERE expires_at >= ?", arguments: [nowMs])
                .map { NonceRecord(hash: $0["hash"], expiresAtMs: $0["expires_at"]) }
        }
    }

    public func pruneNonces(nowMs: Int64) async throws -> Int {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM nonces WHERE expires_at < ?", arguments: [nowMs])
            return db.changesCount
        }
    }

    public func conversions(account: String) async throws -> [ConversionRecord] {
        try readNow { db in
            try Row.fetchAll(db, sql: "SELECT * FROM conversions WHERE account = ? ORDER BY rowid", arguments: [account]).map {
                ConversionRecord(
                    account: $0["account"], messageId: $0["message_id"], to: $0["recipient"], delivered: $0["delivered"],
                    conversionTimeMs: $0["conversion_time"], receivedAtMs: $0["received_at"])
            }
        }
    }

    public func conversionData(account: String) async throws -> [ConversionDataRecord] {
        try readNow { db in
            try Row.fetchAll(db, sql: "SELECT * FROM conversion_data WHERE account = ? ORDER BY rowid", arguments: [account]).map {
                ConversionDataRecord(account: $0["account"], rate: $0["rate"], reportTimeMs: $0["report_time"], receivedAtMs: $0["received_at"])
            }
        }
    }

    static func message(_ row: Row) -> Message {
        Message(
            id: row["id"], account: row["account"], to: row["recipient"], from: row["sender"], text: row["body"],
            type: MessageType(rawValue: row["type"]) ?? .notify, taskId: row["task_id"],
            requestedChannel: row["requested_channel"], priority: Priority(rawValue: row["priority"]) ?? .normal,
            segments: row["segments"], encoding: SMSText.Encoding(rawValue: row["encoding"]) ?? .gsm7,
            status: MessageStatus(rawValue: row["status"]) ?? .queued, errorCode: row["error_code"],
            errorDescription: row["error_desc"], createdAtMs: row["created_at"], notBeforeMs: row["not_before"],
            expiresAtMs: row["expires_at"], sentAtMs: row["sent_at"], doneAtMs: row["done_at"], channel: row["channel"],
            carrierMessageId: row["carrier_id"])
    }
}

extension SQLiteStore {
    /// A synchronous read on the calling thread. Point lookups take microseconds in WAL mode (readers never wait
    /// for the writer), far less than a hop to GRDB's queue, so the hot paths read this way.
    func readNow<T>(_ block: (Database) throws -> T) throws -> T {
        try pool.read(block)
    }
}
