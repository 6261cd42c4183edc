import GRDB
import NIOPosix
public import PetrelCore

extension SQLiteStore {
    public func commit(
        _ batch: WriteBatch,
        limits: NumberLimits,
        then: @escaping @Sendable (Result<[ResponseCode?], any Error>) -> Void
    ) {
        // Checked and counted on the writer thread inside the group-commit transaction: one writer, so exact.
        committer.submit(
            weight: batch.messages.count * 2 + 1,
            { db in try Self.writeLimited(batch, limits, db) },
            home: MultiThreadedEventLoopGroup.currentEventLoop,
            then: then
        )
    }

    public func commit(_ batch: WriteBatch, limits: NumberLimits) async throws -> [ResponseCode?] {
        try await committer.run(weight: batch.messages.count * 2 + 1) { db in try Self.writeLimited(batch, limits, db) }
    }

    public func pruneSendCounts(beforeMs: Int64) async throws -> Int {
        // Rows are in arrival order, so the old ones come first: each transaction reads at most `window` rows from
        // the start (never the whole table, which a busy day makes millions of rows, on the writer thread) and
        // deletes the old among them; a window that was all old means there may be more.
        let window = 5000
        var pruned = 0
        while true {
            let n = try await committer.run(weight: 100) { db in
                try db.execute(
                    sql: """
                        DELETE FROM send_counts WHERE rowid IN (
                            SELECT rowid FROM (SELECT rowid, at FROM send_counts ORDER BY rowid LIMIT ?) WHERE at <= ?)
                        """,
                    arguments: [window, beforeMs]
                )
                return db.changesCount
            }
            pruned += n
            if n < window { return pruned }
        }
    }

    static func writeLimited(_ batch: WriteBatch, _ limits: NumberLimits, _ db: Database) throws -> [ResponseCode?] {
        let account = batch.messages.first?.account ?? ""
        let now = batch.messages.map(\.createdAtMs).max() ?? 0
        let select = try db.cachedStatement(
            sql: "SELECT type, at FROM send_counts WHERE account = ? AND recipient = ? AND at > ?"
        )
        let forget = try db.cachedStatement(
            sql: "DELETE FROM send_counts WHERE account = ? AND recipient = ? AND at <= ?"
        )
        var history: [String: [LimitedSend]] = [:]
        for to in SendLimitCheck.recipients(batch, limits) {
            // What is older than the longest window never counts again: forgotten as the number is touched.
            try forget.execute(arguments: [account, to, now - NumberLimits.horizonMs])
            let rows = try Row.fetchAll(select, arguments: [account, to, now - NumberLimits.horizonMs])
            history[to] = rows.compactMap { row in
                MessageType(rawValue: row[0]).map { LimitedSend(type: $0, atMs: row[1]) }
            }
        }
        let outcome = SendLimitCheck.decide(batch, limits, history: history)
        try write(outcome.kept, db)
        let insert = try db.cachedStatement(
            sql: "INSERT INTO send_counts (account, recipient, type, at) VALUES (?, ?, ?, ?)"
        )
        for m in outcome.counted {
            try insert.execute(arguments: [m.account, m.to, m.type.rawValue, m.createdAtMs])
        }
        return outcome.refusals
    }
}
