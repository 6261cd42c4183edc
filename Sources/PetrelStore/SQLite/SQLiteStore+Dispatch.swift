import Foundation
import GRDB
import GRDBSQLite
public import PetrelCore

extension SQLiteStore {
    public func claim(limit: Int, nowMs: Int64, leaseMs: Int64) async throws -> [Message] {
        guard try anyQueued(nowMs: nowMs) else { return [] }
        return try await committer.run(weight: limit) { db in
            try Self.claim(limit: limit, nowMs: nowMs, leaseMs: leaseMs, sendNow: nil, db).claimed
        }
    }

    /// One write for what the sandbox takes: its messages go from queued to sent in one row change, where the
    /// two-step path (claim, then record) changes each row twice in two transactions.
    public func claim(
        limit: Int,
        nowMs: Int64,
        leaseMs: Int64,
        sendNow: @escaping @Sendable ([Message]) -> DispatchResults
    ) async throws -> (claimed: [Message], sentNow: Int) {
        guard try anyQueued(nowMs: nowMs) else { return ([], 0) }
        return try await committer.run(weight: limit * 2) { db in
            try Self.claim(limit: limit, nowMs: nowMs, leaseMs: leaseMs, sendNow: sendNow, db)
        }
    }

    /// Whether a message is due to be claimed, by a point read on a reader connection (the queue index's first
    /// entry). The dispatcher asks every round, and a round that finds nothing must not take a turn on the one
    /// writer, with its commit and log sync, among the requests waiting there: at one request at a time that was
    /// most of the server's CPU. A message committed after this read wakes the dispatcher again.
    func anyQueued(nowMs: Int64) throws -> Bool {
        try readNow { db in
            try Row.fetchOne(
                db.cachedStatement(
                    sql: "SELECT 1 FROM messages WHERE status = \(MessageStatus.queued.sql) AND not_before <= ? LIMIT 1"
                ),
                arguments: [nowMs]
            ) != nil
        }
    }

    static func claim(
        limit: Int,
        nowMs: Int64,
        leaseMs: Int64,
        sendNow: (([Message]) -> DispatchResults)?,
        _ db: Database
    ) throws -> (claimed: [Message], sentNow: Int) {
        // Select through the queue index, then mark them by primary key, set-based (see ValuesList).
        var claimed: [Message] = []
        claimed.reserveCapacity(limit)
        let rows = try Row.fetchCursor(
            db.cachedStatement(
                sql: """
                    SELECT \(Self.messageColumns) FROM messages
                    WHERE status = \(MessageStatus.queued.sql) AND not_before <= ? ORDER BY priority, not_before LIMIT ?
                    """
            ),
            arguments: [nowMs, limit]
        )
        while let row = try rows.next() { claimed.append(Self.message(row)) }
        guard !claimed.isEmpty else { return ([], 0) }
        var sentNow = 0
        if let sendNow {
            let answer = sendNow(claimed)
            if !answer.sent.isEmpty {
                try markSent(answer.sent, from: .queued, db)
                try insertInbox(answer.inbox, db)
                let sent = Set(answer.sent.map(\.id))
                claimed.removeAll { sent.contains($0.id) }
                sentNow = answer.sent.count
                guard !claimed.isEmpty else { return ([], sentNow) }
            }
        }
        for i in claimed.indices { claimed[i].status = .submitting }
        let leaseUntil = nowMs + leaseMs
        try ValuesList.run(
            claimed,
            db,
            sql: Self.claimMarkSQL,
            bind: { s, m in
                s.bind(m.id)
                s.bind(leaseUntil)
            }
        )
        claimed.sort { ($0.priority, $0.notBeforeMs, $0.id) < ($1.priority, $1.notBeforeMs, $1.id) }
        return (claimed, sentNow)
    }

    @discardableResult
    public func apply(_ updates: [StatusUpdate]) async throws -> [StatusUpdate] {
        guard !updates.isEmpty else { return [] }
        return try await committer.run(weight: updates.count * 2) { db in try Self.apply(updates, db) }
    }

    /// Applies status changes the state machine allows: each row changes only from a state its target may be
    /// reached from. The timeline of a message lives in its columns (created_at, sent_at, done_at) and its parts;
    /// events record only failures and expiries, with their reasons. Returns the changes that were applied.
    static func apply(_ updates: [StatusUpdate], _ db: Database) throws -> [StatusUpdate] {
        // A message named twice is changed in order, one statement per change (a set-based UPDATE would apply
        // only one of them).
        if Set(updates.lazy.map(\.id)).count < updates.count {
            return try updates.flatMap { try apply([$0], db) }
        }
        // The states each target may be reached from, as a bit mask: `status IN (…)` would build an ephemeral
        // b-tree on every execution.
        let masked = updates.compactMap { u -> (StatusUpdate, Int64)? in
            let from = Self.reachableFrom[u.status]!
            return from == 0 ? nil : (u, from)
        }
        var changed = Set<Int64>()
        try ValuesList.run(
            masked,
            db,
            sql: Self.applySQL,
            bind: { s, row in
                let (u, from) = row
                s.bind(u.id)
                s.bind(u.status.rawValue)
                s.bind(u.errorCode)
                s.bind(u.errorDescription)
                s.bind(u.atMs)
                s.bind(from)
            },
            result: { changed.insert(sqlite3_column_int64($0, 0)) }
        )
        let applied = updates.filter { changed.contains($0.id) }
        try recordEvents(applied, db)
        return applied
    }

    /// Failures and expiries get an event with their reason.
    static func recordEvents(_ applied: [StatusUpdate], _ db: Database) throws {
        let event = try db.cachedStatement(
            sql: "INSERT INTO message_events (message_id, at, status, detail) VALUES (?, ?, ?, ?)"
        )
        for u in applied where u.status == .failed || u.status == .expired {
            try FastStatement.run(event, db) { s in
                s.bind(u.id)
                s.bind(u.atMs)
                s.bind(u.status.rawValue)
                s.bind(u.errorCode.isEmpty ? u.errorDescription : "\(u.errorCode): \(u.errorDescription)")
            }
        }
    }

    public func requeue(ids: [Int64], notBeforeMs: Int64) async throws {
        guard !ids.isEmpty else { return }
        try await committer.run(weight: ids.count) { db in
            try Self.requeue(ids.map { RetryRecord(id: $0, atMs: 0, notBeforeMs: notBeforeMs, reason: "") }, db)
        }
    }

    /// Messages still being submitted go back to the queue, each due again at its time (the one requeue
    /// statement: dispatch results' retries and `requeue(ids:notBeforeMs:)`). A retry with a reason is recorded in
    /// the message's history: no column holds it.
    static func requeue(_ retry: [RetryRecord], _ db: Database) throws {
        guard !retry.isEmpty else { return }
        let requeue = try db.cachedStatement(
            sql: """
                UPDATE messages SET status = \(MessageStatus.queued.sql), lease_until = NULL, not_before = ?
                WHERE id = ? AND status = \(MessageStatus.submitting.sql)
                """
        )
        let event = try db.cachedStatement(sql: Self.insertEventSQL)
        let rewrite = try db.cachedStatement(sql: Self.rewriteRetrySQL)
        for r in retry {
            try FastStatement.run(requeue, db) {
                $0.bind(r.notBeforeMs)
                $0.bind(r.id)
            }
            guard !r.reason.isEmpty, db.changesCount > 0 else { continue }
            try FastStatement.run(rewrite, db) { s in
                s.bind(r.atMs)
                s.bind(r.notBeforeMs)
                s.bind(r.reason)
                s.bind(r.id)
            }
            guard db.changesCount == 0 else { continue }
            try FastStatement.run(event, db) { s in
                s.bind(r.id)
                s.bind(r.atMs)
                s.bind(MessageStatus.queued.rawValue)
                s.bind(r.reason)
                s.bind(HistoryEventKind.retried.rawValue)
                s.bind(r.notBeforeMs)
            }
        }
    }

    /// A message with `maxRowsPerMessage` retries recorded has its newest one rewritten instead of a row added.
    static let rewriteRetrySQL = """
        UPDATE message_events SET at = ?1, until = ?2, detail = ?3
        WHERE rowid = (
                SELECT rowid FROM message_events WHERE message_id = ?4 AND kind = \(HistoryEventKind.retried.rawValue)
                ORDER BY rowid DESC LIMIT 1)
            AND (SELECT COUNT(*) FROM message_events WHERE message_id = ?4 AND kind = \(HistoryEventKind.retried.rawValue))
                >= \(HistoryEventKind.maxRowsPerMessage)
        """

    static let insertEventSQL =
        "INSERT INTO message_events (message_id, at, status, detail, kind, until) VALUES (?, ?, ?, ?, ?, ?)"

    public func requeueExpiredLeases(nowMs: Int64) async throws -> Int {
        try await committer.run(weight: 100) { db in
            try Self.requeueLeases(before: nowMs, atMs: nowMs, reason: Self.leaseEnded, db)
        }
    }

    static let leaseEnded = "the claim's lease ended before its channel answered (a stopped node or a lost answer)"

    /// Returns claims whose lease ended before `before` to the queue, each with an event saying so.
    static func requeueLeases(before: Int64, atMs: Int64, reason: String, _ db: Database) throws -> Int {
        try db.execute(
            sql: """
                INSERT INTO message_events (message_id, at, status, detail, kind)
                SELECT id, ?, \(MessageStatus.queued.sql), ?, \(HistoryEventKind.requeued.rawValue) FROM messages
                WHERE status = \(MessageStatus.submitting.sql) AND lease_until < ?
                    AND (SELECT COUNT(*) FROM message_events
                        WHERE message_id = messages.id AND kind = \(HistoryEventKind.requeued.rawValue))
                        < \(HistoryEventKind.maxRowsPerMessage)
                """,
            arguments: [atMs, reason, before]
        )
        try db.execute(
            sql: """
                UPDATE messages SET status = \(MessageStatus.queued.sql), lease_until = NULL
                WHERE status = \(MessageStatus.submitting.sql) AND lease_until < ?
                """,
            arguments: [before]
        )
        return db.changesCount
    }

    /// One process serves a SQLite file (serve.lock): every claim is its own.
    public func requeueOwnLeases() async throws -> Int {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        return try await committer.run(weight: 100) { db in
            try Self.requeueLeases(before: .max, atMs: now, reason: "claimed before a restart, queued again", db)
        }
    }

    public func registerNode(name: String, nowMs: Int64, staleMs: Int64) async throws -> Int { 0 }

    public func heartbeat(nowMs: Int64, staleMs: Int64) async throws -> Int { 1 }

    /// The only node: every slot is free for it.
    public func leaseBindSlots(channel: String, want: Int, total: Int, nowMs: Int64, untilMs: Int64) async throws -> Int
    {
        max(0, min(want, total))
    }

    public func releaseBindSlots() async throws {}

    public func expireQueued(nowMs: Int64) async throws -> [StatusUpdate] {
        try await committer.run(weight: 1000) { db in
            let ids = try Int64.fetchAll(
                db,
                sql: """
                    SELECT id FROM messages
                    WHERE status = \(MessageStatus.queued.sql) AND expires_at IS NOT NULL AND expires_at <= ?
                    LIMIT 10000
                    """,
                arguments: [nowMs]
            )
            let updates = ids.map {
                StatusUpdate(
                    id: $0,
                    status: .expired,
                    errorCode: "EXPIRED",
                    errorDescription: "The validity period ended before the message could be sent",
                    atMs: nowMs
                )
            }
            return try Self.apply(updates, db)
        }
    }

    /// One statement: the due rows are found through their index and changed where they are, each to its own
    /// scheduled outcome. (Selecting them into Swift and applying them as `StatusUpdate`s, as receipts from a
    /// carrier are, cost twice the time per row: the rows went through JSON and were looked up again.)
    /// Scheduled receipts are final states; each row changes only from a state its outcome may be reached from
    /// (as in `apply`), and one that may not keeps its schedule.
    public func applyDueReceipts(nowMs: Int64, limit: Int) async throws -> [StatusUpdate] {
        // Asked every round: when nothing is due (no sandbox, or none of its receipts yet), a point read through
        // the partial index instead of a turn on the writer (see `anyQueued`).
        let due = try readNow { db in
            try Row.fetchOne(
                db.cachedStatement(
                    sql: "SELECT 1 FROM messages WHERE receipt_due IS NOT NULL AND receipt_due <= ? LIMIT 1"
                ),
                arguments: [nowMs]
            ) != nil
        }
        guard due else { return [] }
        return try await committer.run(weight: limit * 2) { db in
            let changed = try Row.fetchCursor(db.cachedStatement(sql: Self.applyDueSQL), arguments: [nowMs, limit])
            var applied: [StatusUpdate] = []
            while let row = try changed.next() {
                applied.append(
                    StatusUpdate(
                        id: row[0],
                        status: MessageStatus(rawValue: row[1]) ?? .delivered,
                        errorCode: row[2],
                        errorDescription: row[3],
                        atMs: row[4] ?? nowMs
                    )
                )
            }
            try Self.recordEvents(applied, db)
            applied.sort { ($0.atMs, $0.id) < ($1.atMs, $1.id) }
            return applied
        }
    }

    /// For each status, the states it may be reached from as a bit mask (bit n = raw value n; 0: from none).
    static let reachableFrom = Dictionary(
        uniqueKeysWithValues: MessageStatus.allCases.map { target in
            (
                target,
                MessageStatus.allCases.filter { $0.canMove(to: target) }.reduce(Int64(0)) { $0 | 1 << $1.rawValue }
            )
        }
    )

    /// The states each final outcome may be reached from, as bit masks (see `apply`), spelled out as a CASE.
    static let applyDueSQL: String = {
        let finals = MessageStatus.allCases.filter(\.isFinal)
        let masks = finals.map { target -> String in
            "WHEN \(target.rawValue) THEN \(SQLiteStore.reachableFrom[target]!)"
        }.joined(separator: " ")
        return """
            UPDATE messages SET status = COALESCE(receipt_status, \(MessageStatus.delivered.rawValue)),
                error_code = COALESCE(receipt_code, ''), error_desc = COALESCE(receipt_desc, ''),
                lease_until = NULL, receipt_due = NULL, done_at = receipt_due, fx = (SELECT epoch FROM stats_fold)
            WHERE id IN (
                    SELECT id FROM messages WHERE receipt_due IS NOT NULL AND receipt_due <= ? ORDER BY receipt_due LIMIT ?)
                AND ((1 << status) & (CASE COALESCE(receipt_status, \(MessageStatus.delivered.rawValue)) \(masks) ELSE 0 END)) != 0
            RETURNING id, status, error_code, error_desc, done_at
            """
    }()

    public func counts() async throws -> [MessageStatus: Int] {
        try await readAside { db in
            var result: [MessageStatus: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT status, COUNT(*) AS n FROM messages GROUP BY status") {
                if let s = MessageStatus(rawValue: row["status"]) { result[s] = row["n"] }
            }
            return result
        }
    }

    public func queueDepth() async throws -> [Priority: Int] {
        try await readAside { db in
            var result: [Priority: Int] = [:]
            // Counted through the partial queue index (queued only), not the whole table.
            let sql =
                "SELECT priority, COUNT(*) FROM messages WHERE status = \(MessageStatus.queued.sql) GROUP BY priority"
            for row in try Row.fetchAll(db, sql: sql) {
                if let p = Priority(rawValue: row[0]) { result[p] = row[1] }
            }
            return result
        }
    }

    public func sandboxMessages(account: String?, to: String?, limit: Int) async throws -> [SandboxEntry] {
        try readNow { db in
            var conditions: [String] = []
            var arguments: [any DatabaseValueConvertible] = []
            if let account {
                conditions.append("account = ?")
                arguments.append(account)
            }
            if let to {
                conditions.append("recipient = ?")
                arguments.append(to)
            }
            arguments.append(limit)
            let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            let rows = try Row.fetchAll(
                db,
                sql: "SELECT * FROM sandbox_inbox \(filter) ORDER BY received_at DESC, rowid DESC LIMIT ?",
                arguments: StatementArguments(arguments)
            )
            return rows.map {
                SandboxEntry(
                    messageId: $0["message_id"],
                    account: $0["account"],
                    to: $0["recipient"],
                    from: $0["sender"],
                    text: $0["body"],
                    segments: $0["segments"],
                    receivedAtMs: $0["received_at"],
                    outcome: $0["outcome"]
                )
            }
        }
    }

    public func clearSandbox(account: String?, to: String?) async throws -> Int {
        try await pool.write { db in
            try db.execute(
                sql: """
                    DELETE FROM sandbox_inbox WHERE (? IS NULL OR account = ?) AND (? IS NULL OR recipient = ?)
                    """,
                arguments: [account, account, to, to]
            )
            return db.changesCount
        }
    }

    static let claimMarkSQL = ValuesList.SQL { k in
        """
        WITH c(id, lease_until) AS (VALUES \(ValuesList.placeholders(rows: k, columns: 2)))
        UPDATE messages SET status = \(MessageStatus.submitting.sql), lease_until = c.lease_until
        FROM c WHERE messages.id = c.id
        """
    }

    static let applySQL = ValuesList.SQL { k in
        """
        WITH u(id, status, code, description, at, mask) AS (VALUES \(ValuesList.placeholders(rows: k, columns: 6)))
        UPDATE messages SET status = u.status, error_code = u.code, error_desc = u.description,
            lease_until = NULL, receipt_due = NULL,
            done_at = CASE WHEN u.status >= \(MessageStatus.finalFloor) THEN u.at ELSE done_at END,
            fx = CASE WHEN u.status >= \(MessageStatus.finalFloor) THEN (SELECT epoch FROM stats_fold) ELSE fx END,
            sent_at = CASE WHEN u.status = \(MessageStatus.sent.sql) THEN u.at ELSE sent_at END
        FROM u WHERE messages.id = u.id AND ((1 << messages.status) & u.mask) != 0
        RETURNING messages.id
        """
    }
}
