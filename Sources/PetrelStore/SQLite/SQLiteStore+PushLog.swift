import GRDB
import PetrelCore

extension SQLiteStore {
    public func recordPushes(_ entries: [PushEntry], keep: Int) async throws {
        guard !entries.isEmpty else { return }
        try await committer.run(weight: entries.count + 1) { db in
            let insert = try db.cachedStatement(
                sql: """
                    INSERT INTO push_log (account, at, node, kind, url, items, attempt, problem)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """
            )
            for e in entries {
                try insert.execute(
                    arguments: [e.account, e.atMs, e.node, e.kind, e.url, e.items, e.attempt, e.problem]
                )
            }
            // The newest `keep` of each account written for; older ones go (over push_log_account).
            let trim = try db.cachedStatement(
                sql: """
                    DELETE FROM push_log WHERE account = ?1 AND id <= (
                        SELECT id FROM push_log WHERE account = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)
                    """
            )
            for account in Set(entries.map(\.account)) {
                try trim.execute(arguments: [account, max(1, keep)])
            }
        }
    }

    public func recentPushes(account: String, limit: Int) async throws -> [PushEntry] {
        try readNow { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT at, node, account, kind, url, items, attempt, problem FROM push_log
                    WHERE account = ? ORDER BY id DESC LIMIT ?
                    """,
                arguments: [account, max(0, limit)]
            ).map {
                PushEntry(
                    atMs: $0[0],
                    node: $0[1],
                    account: $0[2],
                    kind: $0[3],
                    url: $0[4],
                    items: $0[5],
                    attempt: $0[6],
                    problem: $0[7]
                )
            }
        }
    }
}
