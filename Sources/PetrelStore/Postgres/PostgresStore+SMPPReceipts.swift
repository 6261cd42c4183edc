import Foundation
import PetrelCore
import PostgresNIO

extension PostgresStore {
    public func requestSMPPReceipts(_ requests: [SMPPReceiptRequest]) async throws {
        guard !requests.isEmpty else { return }
        let ids = requests.map(\.messageID)
        let accounts = requests.map(\.account)
        let failuresOnly = requests.map(\.failuresOnly)
        // FOR UPDATE: a transaction making the message final at this moment either commits first (the row lock
        // waits for it, and the status read is its final one) or waits for this row, whose trigger then finds it.
        _ = try await run(
            """
            INSERT INTO smpp_receipts (message_id, account, failures_only, ready, next_at)
            SELECT m.id, r.a, r.f, m.status >= \(unescaped: MessageStatus.finalFloor), 0
            FROM unnest(\(ids)::bigint[], \(accounts)::text[], \(failuresOnly)::boolean[]) AS r(id, a, f)
            JOIN messages m ON m.id = r.id
            FOR UPDATE OF m
            ON CONFLICT (message_id) DO NOTHING
            """
        )
    }

    public func claimSMPPReceipts(
        accounts: [String],
        nowMs: Int64,
        untilMs: Int64,
        limit: Int
    ) async throws
        -> [SMPPReceipt]
    {
        guard !accounts.isEmpty, limit > 0 else { return [] }
        // SKIP LOCKED: two nodes claiming at once take different rows; the lease (next_at) keeps them apart after.
        return try await rows(
            """
            WITH taken AS (
                UPDATE smpp_receipts SET next_at = \(untilMs)
                WHERE message_id IN (
                    SELECT message_id FROM smpp_receipts
                    WHERE account = ANY(\(accounts)) AND ready AND next_at <= \(nowMs)
                    ORDER BY next_at, message_id LIMIT \(limit) FOR UPDATE SKIP LOCKED
                )
                RETURNING message_id, account, failures_only
            )
            SELECT t.message_id, t.account, t.failures_only, m.status, m.error_code, m.sender, m.recipient,
                substr(m.body, 1, 20), m.created_at, COALESCE(m.done_at, 0)
            FROM taken t JOIN messages m ON m.id = t.message_id ORDER BY t.message_id
            """
        ) { r in
            SMPPReceipt(
                messageID: try r.get(0),
                account: try r.get(1),
                failuresOnly: try r.get(2),
                status: MessageStatus(rawValue: try r.get(3, as: Int.self)) ?? .failed,
                errorCode: try r.get(4),
                sender: try r.get(5),
                recipient: try r.get(6),
                text: try r.get(7),
                createdAtMs: try r.get(8),
                doneAtMs: try r.get(9)
            )
        }
    }

    public func smppReceiptsDone(messageIDs: [Int64]) async throws {
        guard !messageIDs.isEmpty else { return }
        _ = try await run("DELETE FROM smpp_receipts WHERE message_id = ANY(\(messageIDs))")
    }

    public func releaseSMPPReceipts(messageIDs: [Int64], nowMs: Int64) async throws {
        guard !messageIDs.isEmpty else { return }
        _ = try await run("UPDATE smpp_receipts SET next_at = \(nowMs) WHERE message_id = ANY(\(messageIDs))")
    }

    public func smppReceiptCounts(account: String) async throws -> (ready: Int, waiting: Int) {
        try await first(
            """
            SELECT COUNT(*) FILTER (WHERE ready), COUNT(*) FILTER (WHERE NOT ready) FROM smpp_receipts
            WHERE account = \(account)
            """
        ) { (Int(try $0.get(0, as: Int64.self)), Int(try $0.get(1, as: Int64.self))) } ?? (0, 0)
    }

    public func smppReceiptCountsByAccount() async throws -> [String: SMPPReceiptCounts] {
        let counts = try await rows(
            """
            SELECT account, COUNT(*) FILTER (WHERE ready), COUNT(*) FILTER (WHERE NOT ready) FROM smpp_receipts
            GROUP BY account
            """
        ) { r in
            (
                try r.get(0, as: String.self),
                SMPPReceiptCounts(
                    ready: Int(try r.get(1, as: Int64.self)),
                    waiting: Int(try r.get(2, as: Int64.self))
                )
            )
        }
        return Dictionary(counts, uniquingKeysWith: { a, _ in a })
    }

    public func smppReceiptCountsByAccount(cap: Int) async throws -> [String: SMPPReceiptCounts] {
        // As in SQLite: the accounts by a skip scan of each partial index, each figure at most cap + 1 entries.
        let limit = Int64(max(cap, 0) + 1)
        let counts = try await rows(
            """
            WITH RECURSIVE
            r(account) AS (
                SELECT (SELECT account FROM smpp_receipts WHERE ready ORDER BY account LIMIT 1)
                UNION ALL
                SELECT (SELECT s.account FROM smpp_receipts s WHERE s.ready AND s.account > r.account
                    ORDER BY s.account LIMIT 1) FROM r WHERE r.account IS NOT NULL),
            w(account) AS (
                SELECT (SELECT account FROM smpp_receipts WHERE NOT ready ORDER BY account LIMIT 1)
                UNION ALL
                SELECT (SELECT s.account FROM smpp_receipts s WHERE NOT s.ready AND s.account > w.account
                    ORDER BY s.account LIMIT 1) FROM w WHERE w.account IS NOT NULL),
            a(account) AS (
                SELECT account FROM r WHERE account IS NOT NULL
                UNION SELECT account FROM w WHERE account IS NOT NULL)
            SELECT a.account,
                (SELECT COUNT(*) FROM (SELECT 1 FROM smpp_receipts s
                    WHERE s.account = a.account AND s.ready LIMIT \(limit)) x),
                (SELECT COUNT(*) FROM (SELECT 1 FROM smpp_receipts s
                    WHERE s.account = a.account AND NOT s.ready LIMIT \(limit)) y)
            FROM a
            """
        ) { r in
            (
                try r.get(0, as: String.self),
                SMPPReceiptCounts(
                    ready: Int(try r.get(1, as: Int64.self)),
                    waiting: Int(try r.get(2, as: Int64.self))
                )
            )
        }
        return Dictionary(counts, uniquingKeysWith: { a, _ in a })
    }
}
