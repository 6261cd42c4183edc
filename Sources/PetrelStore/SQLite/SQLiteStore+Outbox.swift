import Foundation
import GRDB
import PetrelCore

extension SQLiteStore {
    public func accounts() async throws -> [AccountRecord] {
        let rows = try readNow { db in try Row.fetchAll(db, sql: "SELECT * FROM accounts ORDER BY name") }
        return try rows.map { row in
            AccountRecord(
                name: row["name"],
                receiptURL: row["receipt_url"],
                webhookSecret: try secrets.open(Array(row["webhook_secret"] as Data)),
                updatedAtMs: row["updated_at"],
                moURL: row["mo_url"]
            )
        }
    }

    public func putAccount(_ account: AccountRecord) async throws {
        let sealed = Data(try secrets.seal(account.webhookSecret))
        try await committer.run(weight: 1) { db in
            try db.execute(
                sql:
                    """
                    INSERT OR REPLACE INTO accounts (name, receipt_url, webhook_secret, updated_at, mo_url)
                    VALUES (?, ?, ?, ?, ?)
                    """,
                arguments: [account.name, account.receiptURL, sealed, account.updatedAtMs, account.moURL]
            )
        }
    }

    public func dueReceipts(account: String, nowMs: Int64, limit: Int) async throws -> [OutboxReceipt] {
        try readNow { db in
            let rows = try Row.fetchCursor(
                db.cachedStatement(
                    sql: """
                        SELECT o.id, o.account, o.attempts, o.created_at, o.last_error, \(Self.messageColumns("m"))
                        FROM receipt_outbox o JOIN messages m ON m.id = o.message_id
                        WHERE o.state = 0 AND o.account = ? AND o.next_at <= ?
                        ORDER BY o.next_at, o.id LIMIT ?
                        """
                ),
                arguments: [account, nowMs, limit]
            )
            var out: [OutboxReceipt] = []
            while let row = try rows.next() { out.append(Self.outboxReceipt(row)) }
            return out
        }
    }

    public func leaseReceipts(ids: [Int64], nowMs: Int64, untilMs: Int64) async throws -> Set<Int64> {
        guard !ids.isEmpty else { return [] }
        return try await committer.run(weight: ids.count) { db in
            let lease = try db.cachedStatement(
                sql: "UPDATE receipt_outbox SET next_at = ? WHERE id = ? AND state = 0 AND next_at <= ?"
            )
            var taken = Set<Int64>()
            for id in ids {
                try lease.execute(arguments: [untilMs, id, nowMs])
                if db.changesCount > 0 { taken.insert(id) }
            }
            return taken
        }
    }

    public func receiptsPushed(ids: [Int64], nowMs: Int64) async throws {
        guard !ids.isEmpty else { return }
        try await committer.run(weight: ids.count) { db in
            // The push's time and attempt go in the history as the outbox row goes (no column holds them): the
            // DELETE returns what the event needs, and the events go in with one statement per chunk.
            let delete = try db.cachedStatement(
                sql: "DELETE FROM receipt_outbox WHERE id = ? RETURNING message_id, attempts"
            )
            var pushed: [(messageId: Int64, attempts: Int64)] = []
            pushed.reserveCapacity(ids.count)
            for id in ids {
                if let row = try Row.fetchOne(delete, arguments: [id]) { pushed.append((row[0], row[1])) }
            }
            try ValuesList.run(
                pushed,
                db,
                sql: Self.insertPushedSQL,
                bind: { s, p in
                    s.bind(p.messageId)
                    s.bind(nowMs)
                    s.bind(p.attempts + 1)
                }
            )
        }
    }

    static let insertPushedSQL = ValuesList.SQL { k in
        """
        WITH p(message_id, at, attempt) AS (VALUES \(ValuesList.placeholders(rows: k, columns: 3)))
        INSERT INTO message_events (message_id, at, status, detail, kind)
        SELECT message_id, at, 0, 'on attempt ' || attempt, \(HistoryEventKind.receiptPushed.rawValue) FROM p
        """
    }

    /// An event for outbox row `?2` at `?1`, its detail the SQL expression `detail` over the row.
    static func outboxEventSQL(_ kind: HistoryEventKind, _ detail: String, until: String = "NULL") -> String {
        """
        INSERT INTO message_events (message_id, at, status, detail, kind, until)
        SELECT message_id, ?1, 0, \(detail), \(kind.rawValue), \(until) FROM receipt_outbox WHERE id = ?2
        """
    }

    public func receiptsRetry(_ retries: [ReceiptRetry]) async throws {
        guard !retries.isEmpty else { return }
        try await committer.run(weight: retries.count * 2) { db in
            let event = try db.cachedStatement(
                sql: Self.outboxEventSQL(
                    .receiptRetry,
                    "'attempt ' || (attempts + 1) || ' failed: ' || ?3",
                    until: "?4"
                )
            )
            let update = try db.cachedStatement(
                sql:
                    "UPDATE receipt_outbox SET attempts = attempts + 1, next_at = ?, last_error = ? WHERE id = ? AND state = 0"
            )
            for r in retries {
                try event.execute(arguments: [r.atMs, r.id, r.error, r.nextAtMs])
                try update.execute(arguments: [r.nextAtMs, r.error, r.id])
            }
        }
    }

    public func parkReceipts(ids: [Int64], error: String, nowMs: Int64) async throws {
        guard !ids.isEmpty else { return }
        try await committer.run(weight: ids.count * 2) { db in
            let event = try db.cachedStatement(
                sql: Self.outboxEventSQL(.receiptParked, "'parked after attempt ' || (attempts + 1) || ': ' || ?3")
            )
            let park = try db.cachedStatement(
                sql: "UPDATE receipt_outbox SET state = 1, attempts = attempts + 1, last_error = ? WHERE id = ?"
            )
            for id in ids {
                try event.execute(arguments: [nowMs, id, error])
                try park.execute(arguments: [error, id])
            }
        }
    }

    public func parkedReceipts(account: String?, limit: Int) async throws -> [OutboxReceipt] {
        try readNow { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT o.id, o.account, o.attempts, o.created_at, o.last_error, \(Self.messageColumns("m"))
                    FROM receipt_outbox o JOIN messages m ON m.id = o.message_id
                    WHERE o.state = 1 AND (? IS NULL OR o.account = ?) ORDER BY o.id LIMIT ?
                    """,
                arguments: [account, account, limit]
            ).map { Self.outboxReceipt($0) }
        }
    }

    public func retryParked(account: String?, nowMs: Int64) async throws -> Int {
        try await committer.run(weight: 100) { db in
            try db.execute(
                sql: """
                    INSERT INTO message_events (message_id, at, status, detail, kind)
                    SELECT message_id, ?, 0, 'a parked receipt sent again', \(HistoryEventKind.receiptReplayed.rawValue)
                    FROM receipt_outbox WHERE state = 1 AND (? IS NULL OR account = ?)
                    """,
                arguments: [nowMs, account, account]
            )
            try db.execute(
                sql: """
                    UPDATE receipt_outbox SET state = 0, attempts = 0, next_at = ?, created_at = ?
                    WHERE state = 1 AND (? IS NULL OR account = ?)
                    """,
                arguments: [nowMs, nowMs, account, account]
            )
            return db.changesCount
        }
    }

    public func replayableReceipts(_ f: ReceiptFilter) async throws -> Int {
        try readNow { db in
            try Int.fetchOne(
                db,
                sql: """
                    SELECT COUNT(*) FROM messages
                    WHERE status IN (\(MessageStatus.finalList))
                      AND (? IS NULL OR account = ?) AND (? IS NULL OR id = ?) AND (? IS NULL OR task_id = ?)
                      AND (? IS NULL OR done_at >= ?)
                    """,
                arguments: [
                    f.account, f.account, f.messageId, f.messageId, f.taskId, f.taskId, f.sinceMs, f.sinceMs,
                ]
            ) ?? 0
        }
    }

    public func replayReceipts(_ f: ReceiptFilter, nowMs: Int64) async throws -> Int {
        try await committer.run(weight: 1000) { db in
            try db.execute(
                sql: """
                    INSERT INTO receipt_outbox (account, message_id, created_at, next_at)
                    SELECT account, id, ?, ? FROM messages
                    WHERE status IN (\(MessageStatus.finalList))
                      AND (? IS NULL OR account = ?) AND (? IS NULL OR id = ?) AND (? IS NULL OR task_id = ?)
                      AND (? IS NULL OR done_at >= ?)
                    ORDER BY id
                    """,
                arguments: [
                    nowMs, nowMs, f.account, f.account, f.messageId, f.messageId, f.taskId, f.taskId, f.sinceMs,
                    f.sinceMs,
                ]
            )
            let replayed = db.changesCount
            // The rows just inserted are the outbox's newest.
            try db.execute(
                sql: """
                    INSERT INTO message_events (message_id, at, status, detail, kind)
                    SELECT message_id, ?, 0, 'receipt replayed', \(HistoryEventKind.receiptReplayed.rawValue)
                    FROM receipt_outbox ORDER BY id DESC LIMIT ?
                    """,
                arguments: [nowMs, replayed]
            )
            return replayed
        }
    }

    public func outboxCounts() async throws -> OutboxCounts {
        try await readAside { db in
            let row = try Row.fetchOne(
                db,
                sql: "SELECT COALESCE(SUM(state = 0), 0), COALESCE(SUM(state = 1), 0) FROM receipt_outbox"
            )
            return OutboxCounts(pending: row?[0] ?? 0, parked: row?[1] ?? 0)
        }
    }

    public func outboxCounts(account: String) async throws -> OutboxCounts {
        try await readAside { db in
            let row = try Row.fetchOne(
                db,
                sql:
                    "SELECT COALESCE(SUM(state = 0), 0), COALESCE(SUM(state = 1), 0) FROM receipt_outbox WHERE account = ?",
                arguments: [account]
            )
            return OutboxCounts(pending: row?[0] ?? 0, parked: row?[1] ?? 0)
        }
    }

    static func messageColumns(_ alias: String) -> String { StoreSQL.messageColumns(alias) }

    /// Five outbox columns, then the message's columns.
    static func outboxReceipt(_ row: Row) -> OutboxReceipt {
        OutboxReceipt(
            id: row[0],
            account: row[1],
            message: message(row, at: 5),
            attempts: row[2],
            createdAtMs: row[3],
            lastError: row[4]
        )
    }
}
