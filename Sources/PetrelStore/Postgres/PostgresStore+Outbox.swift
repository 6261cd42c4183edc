import Foundation
import PetrelCore
import PostgresNIO

extension PostgresStore {
    public func accounts() async throws -> [AccountRecord] {
        let rows = try await rows(
            "SELECT name, receipt_url, webhook_secret, updated_at, mo_url FROM accounts ORDER BY name"
        ) {
            (
                try $0.get(0, as: String.self), try $0.get(1, as: String.self), try $0.get(2, as: Data.self),
                try $0.get(3, as: Int64.self), try $0.get(4, as: String.self)
            )
        }
        return try rows.map {
            AccountRecord(
                name: $0.0,
                receiptURL: $0.1,
                webhookSecret: try secrets.open(Array($0.2)),
                updatedAtMs: $0.3,
                moURL: $0.4
            )
        }
    }

    public func putAccount(_ a: AccountRecord) async throws {
        let sealed = Data(try secrets.seal(a.webhookSecret))
        try await run(
            """
            INSERT INTO accounts (name, receipt_url, webhook_secret, updated_at, mo_url)
            VALUES (\(a.name), \(a.receiptURL), \(sealed), \(a.updatedAtMs), \(a.moURL))
            ON CONFLICT (name) DO UPDATE SET receipt_url = EXCLUDED.receipt_url, webhook_secret = EXCLUDED.webhook_secret,
                updated_at = EXCLUDED.updated_at, mo_url = EXCLUDED.mo_url
            """
        )
    }

    static let outboxColumns = "o.id, o.account, o.attempts, o.created_at, o.last_error, \(messageColumns("m"))"

    static func outboxReceipt(_ r: PostgresRandomAccessRow) throws -> OutboxReceipt {
        OutboxReceipt(
            id: try r.get(0),
            account: try r.get(1),
            message: try message(r, at: 5),
            attempts: try r.get(2),
            createdAtMs: try r.get(3),
            lastError: try r.get(4)
        )
    }

    public func dueReceipts(account: String, nowMs: Int64, limit: Int) async throws -> [OutboxReceipt] {
        try await rows(
            """
            SELECT \(unescaped: Self.outboxColumns) FROM receipt_outbox o JOIN messages m ON m.id = o.message_id
            WHERE o.state = 0 AND o.account = \(account) AND o.next_at <= \(nowMs) ORDER BY o.next_at, o.id LIMIT \(limit)
            """
        ) { try Self.outboxReceipt($0) }
    }

    public func leaseReceipts(ids: [Int64], nowMs: Int64, untilMs: Int64) async throws -> Set<Int64> {
        guard !ids.isEmpty else { return [] }
        // Under READ COMMITTED a second node's UPDATE of the same rows waits, then sees next_at moved: it gets none.
        return Set(
            try await rows(
                """
                UPDATE receipt_outbox SET next_at = \(untilMs) WHERE id = ANY(\(ids)) AND state = 0 AND next_at <= \(nowMs) RETURNING id
                """
            ) { try $0.get(0, as: Int64.self) }
        )
    }

    /// The push's time and attempt go in the history as the outbox row goes: no column holds them.
    public func receiptsPushed(ids: [Int64], nowMs: Int64) async throws {
        guard !ids.isEmpty else { return }
        try await run(
            """
            WITH gone AS (DELETE FROM receipt_outbox WHERE id = ANY(\(ids)) RETURNING message_id, attempts)
            INSERT INTO message_events (message_id, at, status, detail, kind)
            SELECT message_id, \(nowMs), 0, 'on attempt ' || (attempts + 1), \(unescaped: Self.kind(.receiptPushed)) FROM gone
            """
        )
    }

    static func kind(_ k: HistoryEventKind) -> String { String(k.rawValue) }

    public func receiptsRetry(_ retries: [ReceiptRetry]) async throws {
        guard !retries.isEmpty else { return }
        try await run(
            """
            WITH u AS (
                SELECT * FROM unnest(\(retries.map(\.id)), \(retries.map(\.atMs)), \(retries.map(\.nextAtMs)),
                    \(retries.map(\.error))) AS u(id, at, next, err)
            ), changed AS (
                UPDATE receipt_outbox o SET attempts = o.attempts + 1, next_at = u.next, last_error = u.err
                FROM u WHERE o.id = u.id AND o.state = 0
                RETURNING o.message_id, o.attempts, u.at, u.next, u.err
            )
            INSERT INTO message_events (message_id, at, status, detail, kind, until)
            SELECT message_id, at, 0, 'attempt ' || attempts || ' failed: ' || err, \(unescaped: Self.kind(.receiptRetry)), next
            FROM changed
            """
        )
    }

    public func parkReceipts(ids: [Int64], error: String, nowMs: Int64) async throws {
        guard !ids.isEmpty else { return }
        try await run(
            """
            WITH parked AS (
                UPDATE receipt_outbox SET state = 1, attempts = attempts + 1, last_error = \(error)
                WHERE id = ANY(\(ids)) RETURNING message_id, attempts
            )
            INSERT INTO message_events (message_id, at, status, detail, kind)
            SELECT message_id, \(nowMs), 0, 'parked after attempt ' || attempts || ': ' || \(error),
                \(unescaped: Self.kind(.receiptParked))
            FROM parked
            """
        )
    }

    public func parkedReceipts(account: String?, limit: Int) async throws -> [OutboxReceipt] {
        try await rows(
            """
            SELECT \(unescaped: Self.outboxColumns) FROM receipt_outbox o JOIN messages m ON m.id = o.message_id
            WHERE o.state = 1 AND (\(account)::text IS NULL OR o.account = \(account)) ORDER BY o.id LIMIT \(limit)
            """
        ) { try Self.outboxReceipt($0) }
    }

    public func retryParked(account: String?, nowMs: Int64) async throws -> Int {
        try await run(
            """
            WITH sent AS (
                UPDATE receipt_outbox SET state = 0, attempts = 0, next_at = \(nowMs), created_at = \(nowMs)
                WHERE state = 1 AND (\(account)::text IS NULL OR account = \(account)) RETURNING message_id
            )
            INSERT INTO message_events (message_id, at, status, detail, kind)
            SELECT message_id, \(nowMs), 0, 'a parked receipt sent again', \(unescaped: Self.kind(.receiptReplayed))
            FROM sent RETURNING 1
            """
        )
    }

    public func replayableReceipts(_ f: ReceiptFilter) async throws -> Int {
        try await rows(
            """
            SELECT COUNT(*) FROM messages
            WHERE status IN (\(unescaped: MessageStatus.finalList))
              AND (\(f.account)::text IS NULL OR account = \(f.account)) AND (\(f.messageId)::bigint IS NULL OR id = \(f.messageId))
              AND (\(f.taskId)::text IS NULL OR task_id = \(f.taskId)) AND (\(f.sinceMs)::bigint IS NULL OR done_at >= \(f.sinceMs))
            """
        ) { try $0.get(0, as: Int.self) }.first ?? 0
    }

    public func replayReceipts(_ f: ReceiptFilter, nowMs: Int64) async throws -> Int {
        try await run(
            """
            WITH replayed AS (
            INSERT INTO receipt_outbox (account, message_id, created_at, next_at)
            SELECT account, id, \(nowMs), \(nowMs) FROM messages
            WHERE status IN (\(unescaped: MessageStatus.finalList))
              AND (\(f.account)::text IS NULL OR account = \(f.account)) AND (\(f.messageId)::bigint IS NULL OR id = \(f.messageId))
              AND (\(f.taskId)::text IS NULL OR task_id = \(f.taskId)) AND (\(f.sinceMs)::bigint IS NULL OR done_at >= \(f.sinceMs))
            ORDER BY id
            RETURNING message_id
            )
            INSERT INTO message_events (message_id, at, status, detail, kind)
            SELECT message_id, \(nowMs), 0, 'receipt replayed', \(unescaped: Self.kind(.receiptReplayed)) FROM replayed
            RETURNING 1
            """
        )
    }

    public func outboxCounts() async throws -> OutboxCounts {
        try await first(
            "SELECT COUNT(*) FILTER (WHERE state = 0), COUNT(*) FILTER (WHERE state = 1) FROM receipt_outbox"
        ) {
            OutboxCounts(pending: try $0.get(0), parked: try $0.get(1))
        } ?? OutboxCounts(pending: 0, parked: 0)
    }

    public func outboxCounts(account: String) async throws -> OutboxCounts {
        try await first(
            "SELECT COUNT(*) FILTER (WHERE state = 0), COUNT(*) FILTER (WHERE state = 1) FROM receipt_outbox WHERE account = \(account)"
        ) { OutboxCounts(pending: try $0.get(0), parked: try $0.get(1)) } ?? OutboxCounts(pending: 0, parked: 0)
    }
}
