import PetrelCore
import PostgresNIO

extension PostgresStore {
    /// One INSERT for the whole batch (arrays unnested) and one DELETE trimming every account it wrote for, in one
    /// transaction.
    public func recordPushes(_ entries: [PushEntry], keep: Int) async throws {
        guard !entries.isEmpty else { return }
        let accounts = Array(Set(entries.map(\.account)))
        try await transaction { t in
            try await self.run(
                """
                INSERT INTO push_log (account, at, node, kind, url, items, attempt, problem)
                SELECT a, at, n, k, u, i, t, NULLIF(p, '')
                FROM unnest(\(entries.map(\.account)), \(entries.map(\.atMs)), \(entries.map(\.node)),
                    \(entries.map(\.kind)), \(entries.map(\.url)), \(entries.map { Int32(clamping: $0.items) }),
                    \(entries.map { Int32(clamping: $0.attempt) }), \(entries.map { $0.problem ?? "" }))
                    AS x(a, at, n, k, u, i, t, p)
                """,
                on: t
            )
            try await self.run(
                """
                DELETE FROM push_log p USING (
                    SELECT a, (SELECT id FROM push_log WHERE account = a ORDER BY id DESC OFFSET \(Int64(max(1, keep))) LIMIT 1) AS cut
                    FROM unnest(\(accounts)) AS a) c
                WHERE p.account = c.a AND p.id <= c.cut
                """,
                on: t
            )
        }
    }

    public func recentPushes(account: String, limit: Int) async throws -> [PushEntry] {
        try await rows(
            """
            SELECT at, node, account, kind, url, items, attempt, problem FROM push_log
            WHERE account = \(account) ORDER BY id DESC LIMIT \(Int64(max(0, limit)))
            """
        ) {
            PushEntry(
                atMs: try $0.get(0, as: Int64.self),
                node: try $0.get(1, as: String.self),
                account: try $0.get(2, as: String.self),
                kind: try $0.get(3, as: String.self),
                url: try $0.get(4, as: String.self),
                items: Int(try $0.get(5, as: Int32.self)),
                attempt: Int(try $0.get(6, as: Int32.self)),
                problem: try $0.get(7, as: String?.self)
            )
        }
    }
}
