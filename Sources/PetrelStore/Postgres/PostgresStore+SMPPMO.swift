import Foundation
import PetrelCore
import PostgresNIO

extension PostgresStore {
    public func claimSMPPMO(
        accounts: [String],
        nowMs: Int64,
        untilMs: Int64,
        limit: Int
    ) async throws
        -> [InboundMessage]
    {
        guard !accounts.isEmpty, limit > 0 else { return [] }
        // SKIP LOCKED: two nodes claiming at once take different rows; the lease (next_at) keeps them apart after.
        return try await rows(
            """
            WITH taken AS (
                UPDATE smpp_mo SET next_at = \(untilMs)
                WHERE inbound_id IN (
                    SELECT inbound_id FROM smpp_mo WHERE account = ANY(\(accounts)) AND next_at <= \(nowMs)
                    ORDER BY next_at, inbound_id LIMIT \(limit) FOR UPDATE SKIP LOCKED
                )
                RETURNING inbound_id
            )
            SELECT \(unescaped: Self.inboundColumns) FROM taken t JOIN inbound i ON i.id = t.inbound_id ORDER BY i.id
            """
        ) { try Self.inboundMessage($0, at: 0) }
    }

    public func smppMODone(ids: [Int64]) async throws {
        guard !ids.isEmpty else { return }
        _ = try await run("DELETE FROM smpp_mo WHERE inbound_id = ANY(\(ids))")
    }

    public func releaseSMPPMO(ids: [Int64], nowMs: Int64) async throws {
        guard !ids.isEmpty else { return }
        _ = try await run("UPDATE smpp_mo SET next_at = \(nowMs) WHERE inbound_id = ANY(\(ids))")
    }

    public func smppMOCountsByAccount() async throws -> [String: Int] {
        let counts = try await rows("SELECT account, COUNT(*) FROM smpp_mo GROUP BY account") { r in
            (try r.get(0, as: String.self), Int(try r.get(1, as: Int64.self)))
        }
        return Dictionary(counts, uniquingKeysWith: { a, _ in a })
    }

    public func smppMOCountsByAccount(cap: Int) async throws -> [String: Int] {
        // As in SQLite: a skip scan of smpp_mo_ready for the accounts, at most cap + 1 entries for each.
        let limit = Int64(max(cap, 0) + 1)
        let counts = try await rows(
            """
            WITH RECURSIVE a(account) AS (
                SELECT (SELECT account FROM smpp_mo ORDER BY account LIMIT 1)
                UNION ALL
                SELECT (SELECT m.account FROM smpp_mo m WHERE m.account > a.account ORDER BY m.account LIMIT 1)
                FROM a WHERE a.account IS NOT NULL)
            SELECT a.account,
                (SELECT COUNT(*) FROM (SELECT 1 FROM smpp_mo m WHERE m.account = a.account LIMIT \(limit)) x)
            FROM a WHERE a.account IS NOT NULL
            """
        ) { r in (try r.get(0, as: String.self), Int(try r.get(1, as: Int64.self))) }
        return Dictionary(counts, uniquingKeysWith: { a, _ in a })
    }
}
