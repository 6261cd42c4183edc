import Foundation
import GRDB
import PetrelCore

extension SQLiteStore {
    public func claimSMPPMO(
        accounts: [String],
        nowMs: Int64,
        untilMs: Int64,
        limit: Int
    ) async throws
        -> [InboundMessage]
    {
        guard !accounts.isEmpty, limit > 0 else { return [] }
        return try await committer.run(weight: limit) { db in
            var found: [InboundMessage] = []
            for account in accounts where found.count < limit {
                found += try Row.fetchAll(
                    db,
                    sql: """
                        SELECT \(Self.inboundColumns("i.")) FROM smpp_mo r JOIN inbound i ON i.id = r.inbound_id
                        WHERE r.account = ? AND r.next_at <= ? ORDER BY r.next_at, r.inbound_id LIMIT ?
                        """,
                    arguments: [account, nowMs, limit - found.count]
                ).map { Self.inboundMessage($0, at: 0) }
            }
            let lease = try db.cachedStatement(sql: "UPDATE smpp_mo SET next_at = ? WHERE inbound_id = ?")
            for m in found { try lease.execute(arguments: [untilMs, m.id]) }
            return found
        }
    }

    public func smppMODone(ids: [Int64]) async throws {
        guard !ids.isEmpty else { return }
        try await committer.run(weight: ids.count) { db in
            let delete = try db.cachedStatement(sql: "DELETE FROM smpp_mo WHERE inbound_id = ?")
            for id in ids { try delete.execute(arguments: [id]) }
        }
    }

    public func releaseSMPPMO(ids: [Int64], nowMs: Int64) async throws {
        guard !ids.isEmpty else { return }
        try await committer.run(weight: ids.count) { db in
            let release = try db.cachedStatement(sql: "UPDATE smpp_mo SET next_at = ? WHERE inbound_id = ?")
            for id in ids { try release.execute(arguments: [nowMs, id]) }
        }
    }

    public func smppMOCountsByAccount() async throws -> [String: Int] {
        try await readAside { db in
            var counts: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT account, COUNT(*) FROM smpp_mo GROUP BY account") {
                counts[row[0]] = row[1]
            }
            return counts
        }
    }

    public func smppMOCountsByAccount(cap: Int) async throws -> [String: Int] {
        try await readAside { db in
            // A skip scan of smpp_mo_ready for the accounts, then at most cap + 1 index entries for each.
            let rows = try Row.fetchAll(
                db,
                sql: """
                    WITH RECURSIVE a(account) AS (
                        SELECT (SELECT account FROM smpp_mo ORDER BY account LIMIT 1)
                        UNION ALL
                        SELECT (SELECT m.account FROM smpp_mo m WHERE m.account > a.account ORDER BY m.account LIMIT 1)
                        FROM a WHERE a.account IS NOT NULL)
                    SELECT a.account, (SELECT COUNT(*) FROM (SELECT 1 FROM smpp_mo m WHERE m.account = a.account LIMIT ?))
                    FROM a WHERE a.account IS NOT NULL
                    """,
                arguments: [max(cap, 0) + 1]
            )
            var counts: [String: Int] = [:]
            for row in rows { counts[row[0]] = row[1] }
            return counts
        }
    }
}
