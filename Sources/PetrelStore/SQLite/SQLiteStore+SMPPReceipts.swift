import Foundation
import GRDB
import PetrelCore

extension SQLiteStore {
    public func requestSMPPReceipts(_ requests: [SMPPReceiptRequest]) async throws {
        guard !requests.isEmpty else { return }
        try await committer.run(weight: requests.count) { db in
            // One transaction with the status read: a message that became final before its row existed is
            // ready at once (the trigger found no row to mark).
            let insert = try db.cachedStatement(
                sql: """
                    INSERT INTO smpp_receipts (message_id, account, failures_only, ready, next_at)
                    SELECT ?, ?, ?, EXISTS (SELECT 1 FROM messages WHERE id = ? AND status >= \(MessageStatus.finalFloor)), 0
                    ON CONFLICT (message_id) DO NOTHING
                    """
            )
            for r in requests {
                try insert.execute(arguments: [r.messageID, r.account, r.failuresOnly, r.messageID])
            }
        }
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
        return try await committer.run(weight: limit) { db in
            var found: [SMPPReceipt] = []
            for account in accounts where found.count < limit {
                let rows = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT r.message_id, r.account, r.failures_only, m.status, m.error_code, m.sender, m.recipient,
                            substr(m.body, 1, 20), m.created_at, COALESCE(m.done_at, 0)
                        FROM smpp_receipts r JOIN messages m ON m.id = r.message_id
                        WHERE r.account = ? AND r.ready = 1 AND r.next_at <= ? ORDER BY r.next_at, r.message_id LIMIT ?
                        """,
                    arguments: [account, nowMs, limit - found.count]
                )
                found += rows.map { row in
                    SMPPReceipt(
                        messageID: row[0],
                        account: row[1],
                        failuresOnly: row[2],
                        status: MessageStatus(rawValue: row[3]) ?? .failed,
                        errorCode: row[4],
                        sender: row[5],
                        recipient: row[6],
                        text: row[7],
                        createdAtMs: row[8],
                        doneAtMs: row[9]
                    )
                }
            }
            let lease = try db.cachedStatement(sql: "UPDATE smpp_receipts SET next_at = ? WHERE message_id = ?")
            for r in found { try lease.execute(arguments: [untilMs, r.messageID]) }
            return found
        }
    }

    public func smppReceiptsDone(messageIDs: [Int64]) async throws {
        guard !messageIDs.isEmpty else { return }
        try await committer.run(weight: messageIDs.count) { db in
            let delete = try db.cachedStatement(sql: "DELETE FROM smpp_receipts WHERE message_id = ?")
            for id in messageIDs { try delete.execute(arguments: [id]) }
        }
    }

    public func releaseSMPPReceipts(messageIDs: [Int64], nowMs: Int64) async throws {
        guard !messageIDs.isEmpty else { return }
        try await committer.run(weight: messageIDs.count) { db in
            let release = try db.cachedStatement(sql: "UPDATE smpp_receipts SET next_at = ? WHERE message_id = ?")
            for id in messageIDs { try release.execute(arguments: [nowMs, id]) }
        }
    }

    public func smppReceiptCounts(account: String) async throws -> (ready: Int, waiting: Int) {
        try readNow { db in
            let row = try Row.fetchOne(
                db,
                sql:
                    "SELECT COALESCE(SUM(ready), 0), COUNT(*) - COALESCE(SUM(ready), 0) FROM smpp_receipts WHERE account = ?",
                arguments: [account]
            )
            return (row?[0] ?? 0, row?[1] ?? 0)
        }
    }

    public func smppReceiptCountsByAccount() async throws -> [String: SMPPReceiptCounts] {
        try await readAside { db in
            let rows = try Row.fetchAll(
                db,
                sql: "SELECT account, SUM(ready), COUNT(*) - SUM(ready) FROM smpp_receipts GROUP BY account"
            )
            var counts: [String: SMPPReceiptCounts] = [:]
            for row in rows { counts[row[0]] = SMPPReceiptCounts(ready: row[1], waiting: row[2]) }
            return counts
        }
    }

    public func smppReceiptCountsByAccount(cap: Int) async throws -> [String: SMPPReceiptCounts] {
        try await readAside { db in
            // The accounts: a skip scan of each partial index (the next account after the last, one seek each);
            // then each figure is a count of at most cap + 1 index entries.
            let rows = try Row.fetchAll(
                db,
                sql: """
                    WITH RECURSIVE
                    r(account) AS (
                        SELECT (SELECT account FROM smpp_receipts WHERE ready = 1 ORDER BY account LIMIT 1)
                        UNION ALL
                        SELECT (SELECT s.account FROM smpp_receipts s WHERE s.ready = 1 AND s.account > r.account
                            ORDER BY s.account LIMIT 1) FROM r WHERE r.account IS NOT NULL),
                    w(account) AS (
                        SELECT (SELECT account FROM smpp_receipts WHERE ready = 0 ORDER BY account LIMIT 1)
                        UNION ALL
                        SELECT (SELECT s.account FROM smpp_receipts s WHERE s.ready = 0 AND s.account > w.account
                            ORDER BY s.account LIMIT 1) FROM w WHERE w.account IS NOT NULL),
                    a(account) AS (
                        SELECT account FROM r WHERE account IS NOT NULL
                        UNION SELECT account FROM w WHERE account IS NOT NULL)
                    SELECT a.account,
                        (SELECT COUNT(*) FROM (SELECT 1 FROM smpp_receipts s
                            WHERE s.account = a.account AND s.ready = 1 LIMIT ?1)),
                        (SELECT COUNT(*) FROM (SELECT 1 FROM smpp_receipts s
                            WHERE s.account = a.account AND s.ready = 0 LIMIT ?1))
                    FROM a
                    """,
                arguments: [max(cap, 0) + 1]
            )
            var counts: [String: SMPPReceiptCounts] = [:]
            for row in rows { counts[row[0]] = SMPPReceiptCounts(ready: row[1], waiting: row[2]) }
            return counts
        }
    }
}
