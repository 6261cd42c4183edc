import Foundation
import GRDB
import NIOPosix
public import PetrelCore

/// The embedded store: one SQLite file in WAL mode, writes group-committed, every caller resumed only once its
/// transaction is on disk (`WALSync`).
public final class SQLiteStore: MessageStore {
    let pool: DatabasePool
    let secrets: SecretBox
    let keyCache: KeyCache
    let committer: GroupCommitter
    let walSync: WALSync
    let limitMemory: LimitMemory
    /// The statistics fold epoch stamped on stored messages (`foldStatistics`).
    let statsEpoch: StatsEpoch
    private let checkpointer: Checkpointer

    /// `limits.trackedSends` when not set: about 70 MB at most.
    public static let defaultTrackedSends = 1_000_000

    /// The database file's name in the data directory.
    public static let fileName = "petrel.sqlite"

    /// Opens (creating if needed) `petrel.sqlite` in `directory` and migrates it.
    /// `trackedSends`: most sends counted by `limits.perNumber` held in memory (`LimitMemory`); beyond, they are
    /// counted on disk.
    public init(directory: String, secrets: SecretBox, trackedSends: Int = SQLiteStore.defaultTrackedSends) throws {
        try FileManager.default.createDirectory(
            atPath: directory,
            withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700]
        )
        var config = Configuration()
        config.busyMode = .timeout(10)
        config.foreignKeysEnabled = false
        config.label = "petrel"
        config.prepareDatabase { db in
            // The queue's hot pages (recent rows, index tails) should never leave the writer's memory: 64 MB of
            // page cache. Readers (queries, the console, whole-queue counts) take 8 MB each: a count walks the whole
            // queue index every few seconds, and with a 64 MB cache those pages stayed in RSS (150.5 MB with 1.17M
            // queued, against 130 MB before the first count); the OS page cache still holds them.
            // No memory map: it made every database page read count in the process's RSS (372 MB with 1.5M queued,
            // against 144 MB without) and gained nothing measurable end to end (6.4–7.2k msg/s either way).
            try db.execute(sql: db.configuration.readonly ? "PRAGMA cache_size = -8192" : "PRAGMA cache_size = -65536")
            try db.execute(sql: "PRAGMA mmap_size = 0")
        }
        let path = (directory as NSString).appendingPathComponent(Self.fileName)
        let pool = try DatabasePool(path: path, configuration: config)
        // NORMAL: commits write the log without waiting for the disk; WALSync syncs it before anyone is answered.
        // (GRDB sets NORMAL on the writer after prepareDatabase anyway; say it here, where it matters.)
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // Checkpoints normally run beside the writer (Checkpointer); this is the safety net.
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 16384")
            try db.execute(sql: "PRAGMA journal_size_limit = 67108864")
        }
        try SQLiteSchema.migrator().migrate(pool)
        // Messages and sealed secrets are for the service's user alone, also in a store made by an older version
        // (or under a looser umask); SQLite gives the log and shared-memory files the database file's mode.
        for suffix in ["", "-wal", "-shm"] { chmod(path + suffix, 0o600) }
        self.pool = pool
        self.secrets = secrets
        self.keyCache = KeyCache(directory: directory)
        self.walSync = WALSync(walPath: path + "-wal")
        let limitMemory = LimitMemory(capacity: trackedSends)
        self.limitMemory = limitMemory
        self.statsEpoch = StatsEpoch(
            try pool.read { db in try Int64.fetchOne(db, sql: "SELECT epoch FROM stats_fold") ?? 1 }
        )
        self.committer = GroupCommitter(writer: pool, durability: walSync, hooks: limitMemory)
        self.checkpointer = try Checkpointer(path: path)
    }

    public func close() async throws {
        committer.stop()
        walSync.stop()
        try checkpointer.stop()
        try pool.close()
    }

    /// The `synchronous` level of the writer connection (1 = NORMAL: WALSync makes commits durable), for tests.
    public func synchronousLevel() throws -> Int {
        try pool.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
    }

    /// How many times the log was synced to disk so far (for tests).
    public var logSyncs: Int { walSync.syncCount }

    public func journalMode() throws -> String {
        try readNow { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "" }
    }

    // MARK: Accept path

    public func commit(_ batch: WriteBatch) async throws {
        guard !batch.isEmpty else { return }
        let stats = statsEpoch
        try await committer.run(weight: batch.messages.count + 1) { db in try Self.write(batch, db, stats: stats) }
    }

    public func commit(_ batch: WriteBatch, then: @escaping @Sendable (Result<Void, any Error>) -> Void) {
        guard !batch.isEmpty else { return then(.success(())) }
        // `then` runs on the event loop that called (the RPC door answers on its connection's loop, and a sync's
        // answers for one loop go in one hop), or on the sync thread for a caller on no event loop. Kept for speed:
        // a task per request costs the door more than the write.
        committer.submit(
            weight: batch.messages.count + 1,
            { [statsEpoch] db in try Self.write(batch, db, stats: statsEpoch) },
            home: MultiThreadedEventLoopGroup.currentEventLoop,
            then: then
        )
    }

    /// Stores `batch`; its messages carry the statistics epoch `stats` (`sx`), for the fold to find.
    static func write(_ batch: WriteBatch, _ db: Database, stats: StatsEpoch) throws {
        if let nonce = batch.nonce {
            try FastStatement.run(
                try db.cachedStatement(sql: "INSERT INTO nonces (hash, expires_at) VALUES (?, ?)"),
                db
            ) {
                $0.bind(nonce.hash)
                $0.bind(nonce.expiresAtMs)
            }
        }
        // Several rows per INSERT (a quarter cheaper per row than one statement each).
        let epoch = stats.current
        try ValuesList.run(
            batch.messages,
            db,
            sql: Self.insertMessagesSQL,
            bind: { s, m in
                s.bind(m.id)
                s.bind(m.account)
                s.bind(m.to)
                s.bind(m.from)
                s.bind(m.text)
                s.bind(m.type.rawValue)
                s.bind(m.taskId)
                s.bind(m.requestedChannel)
                s.bind(m.priority.rawValue)
                s.bind(m.segments)
                s.bind(m.encoding.rawValue)
                s.bind(m.status.rawValue)
                s.bind(m.errorCode)
                s.bind(m.errorDescription)
                s.bind(m.createdAtMs)
                s.bind(m.notBeforeMs)
                s.bind(m.expiresAtMs)
                s.bind(m.api.rawValue)
                s.bind(m.templateCode)
                s.bind(m.bizId)
                s.bind(m.extendCode)
                s.bind(epoch)
            }
        )
        for c in batch.conversions {
            // Before the report is stored: a message reported converted before counts once.
            try countConversion(c, db)
            try db.execute(
                sql: """
                    INSERT INTO conversions (account, message_id, recipient, delivered, conversion_time, received_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [c.account, c.messageId, c.to, c.delivered, c.conversionTimeMs, c.receivedAtMs]
            )
        }
        for d in batch.conversionData {
            try db.execute(
                sql: "INSERT INTO conversion_data (account, rate, report_time, received_at) VALUES (?, ?, ?, ?)",
                arguments: [d.account, d.rate, d.reportTimeMs, d.receivedAtMs]
            )
        }
        if let progress = batch.campaign { try write(progress, db) }
    }

    public func message(id: Int64, account: String) async throws -> Message? {
        try readNow { db in
            try Row.fetchOne(
                db.cachedStatement(sql: "SELECT \(Self.messageColumns) FROM messages WHERE id = ? AND account = ?"),
                arguments: [id, account]
            ).map { Self.message($0) }
        }
    }

    public func events(messageId: Int64) async throws -> [MessageEvent] {
        try readNow { db in
            try Row.fetchAll(
                db,
                sql: "SELECT * FROM message_events WHERE message_id = ? AND kind = 0 ORDER BY at, rowid",
                arguments: [messageId]
            ).map { row in
                MessageEvent(
                    messageId: row["message_id"],
                    status: MessageStatus(rawValue: row["status"]) ?? .queued,
                    atMs: row["at"],
                    detail: row["detail"]
                )
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
        try await committer.run(weight: 1000) { db in
            try db.execute(sql: "DELETE FROM nonces WHERE expires_at < ?", arguments: [nowMs])
            return db.changesCount
        }
    }

    public func conversions(account: String) async throws -> [ConversionRecord] {
        try readNow { db in
            try Row.fetchAll(
                db,
                sql: "SELECT * FROM conversions WHERE account = ? ORDER BY rowid",
                arguments: [account]
            ).map {
                ConversionRecord(
                    account: $0["account"],
                    messageId: $0["message_id"],
                    to: $0["recipient"],
                    delivered: $0["delivered"],
                    conversionTimeMs: $0["conversion_time"],
                    receivedAtMs: $0["received_at"]
                )
            }
        }
    }

    public func conversionData(account: String) async throws -> [ConversionDataRecord] {
        try readNow { db in
            try Row.fetchAll(
                db,
                sql: "SELECT * FROM conversion_data WHERE account = ? ORDER BY rowid",
                arguments: [account]
            ).map {
                ConversionDataRecord(
                    account: $0["account"],
                    rate: $0["rate"],
                    reportTimeMs: $0["report_time"],
                    receivedAtMs: $0["received_at"]
                )
            }
        }
    }

    /// The columns `message(_:)` decodes, by position (name lookups cost a lowercased copy per column).
    static let messageColumns = StoreSQL.messageColumns

    static func message(_ row: Row, at o: Int = 0) -> Message {
        Message(
            id: row[o],
            account: row[o + 1],
            to: row[o + 2],
            from: row[o + 3],
            text: row[o + 4],
            type: MessageType(rawValue: row[o + 5]) ?? .notify,
            taskId: row[o + 6],
            requestedChannel: row[o + 7],
            priority: Priority(rawValue: row[o + 8]) ?? .normal,
            segments: row[o + 9],
            encoding: SMSText.Encoding(rawValue: row[o + 10]) ?? .gsm7,
            status: MessageStatus(rawValue: row[o + 11]) ?? .queued,
            errorCode: row[o + 12],
            errorDescription: row[o + 13],
            createdAtMs: row[o + 14],
            notBeforeMs: row[o + 15],
            expiresAtMs: row[o + 16],
            sentAtMs: row[o + 17],
            doneAtMs: row[o + 18],
            channel: row[o + 19],
            carrierMessageId: row[o + 20],
            api: APIVersion(rawValue: row[o + 21]) ?? .intl,
            templateCode: row[o + 22],
            bizId: row[o + 23]
        )
    }
}

extension SQLiteStore {
    /// A synchronous read on the calling thread. Point lookups take microseconds in WAL mode (readers never wait
    /// for the writer), far less than a hop to GRDB's queue, so the hot paths read this way.
    func readNow<T>(_ block: (Database) throws -> T) throws -> T {
        try pool.read(block)
    }

    /// A read that may walk many rows (counts of the whole queue or outbox): it runs on a reader connection's own
    /// queue and the caller waits without holding its thread, so a count over a million queued messages does not
    /// stall an event loop (`readNow` runs on the caller's thread, which is right for point reads).
    func readAside<T: Sendable>(_ block: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await pool.read(block)
    }
}

extension SQLiteStore {
    /// Message counts by status, read through a read-only connection (for tools that watch a running server).
    public static func statusCounts(directory: String) throws -> [MessageStatus: Int] {
        var config = Configuration()
        config.readonly = true
        let queue = try DatabaseQueue(
            path: (directory as NSString).appendingPathComponent(Self.fileName),
            configuration: config
        )
        defer { try? queue.close() }
        return try queue.read { db in
            var result: [MessageStatus: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT status, COUNT(*) FROM messages GROUP BY status") {
                if let s = MessageStatus(rawValue: row[0]) { result[s] = row[1] }
            }
            return result
        }
    }

    static let insertMessagesSQL = ValuesList.SQL { k in
        """
        INSERT INTO messages (id, account, recipient, sender, body, type, task_id, requested_channel, priority,
            segments, encoding, status, error_code, error_desc, created_at, not_before, expires_at, api, template_code,
            biz_id, ext_code, sx)
        VALUES \(ValuesList.placeholders(rows: k, columns: 22))
        """
    }
}
