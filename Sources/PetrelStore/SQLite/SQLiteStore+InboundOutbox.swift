import Foundation
import GRDB
import PetrelCore

/// The inbound outbox, the receipt outbox's twin (SQLiteStore+Outbox.swift), without history events: an inbound
/// message has no timeline.
extension SQLiteStore {
    public func dueInbound(account: String, nowMs: Int64, limit: Int) async throws -> [OutboxInbound] {
        try readNow { db in
            try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT o.id, o.attempts, o.created_at, o.last_error, \(Self.inboundColumns("i."))
                        FROM inbound_outbox o JOIN inbound i ON i.id = o.inbound_id
                        WHERE o.state = 0 AND o.account = ? AND o.next_at <= ? ORDER BY o.next_at, o.id LIMIT ?
                        """
                ),
                arguments: [account, nowMs, limit]
            ).map { row in
                OutboxInbound(
                    id: row[0],
                    message: Self.inboundMessage(row, at: 4),
                    attempts: row[1],
                    createdAtMs: row[2],
                    lastError: row[3]
                )
            }
        }
    }

    public func leaseInbound(ids: [Int64], nowMs: Int64, untilMs: Int64) async throws -> Set<Int64> {
        guard !ids.isEmpty else { return [] }
        return try await committer.run(weight: ids.count) { db in
            let lease = try db.cachedStatement(
                sql: "UPDATE inbound_outbox SET next_at = ? WHERE id = ? AND state = 0 AND next_at <= ?"
            )
            var taken = Set<Int64>()
            for id in ids {
                try lease.execute(arguments: [untilMs, id, nowMs])
                if db.changesCount > 0 { taken.insert(id) }
            }
            return taken
        }
    }

    public func inboundPushed(ids: [Int64], nowMs: Int64) async throws {
        guard !ids.isEmpty else { return }
        try await committer.run(weight: ids.count) { db in
            // Kept as pushed (state 2, next_at the time) until the message is purged: the console shows it.
            let pushed = try db.cachedStatement(sql: "UPDATE inbound_outbox SET state = 2, next_at = ? WHERE id = ?")
            for id in ids { try pushed.execute(arguments: [nowMs, id]) }
        }
    }

    public func inboundRetry(_ retries: [ReceiptRetry]) async throws {
        guard !retries.isEmpty else { return }
        try await committer.run(weight: retries.count) { db in
            let update = try db.cachedStatement(
                sql: """
                    UPDATE inbound_outbox SET attempts = attempts + 1, next_at = ?, last_error = ? WHERE id = ? AND state = 0
                    """
            )
            for r in retries { try update.execute(arguments: [r.nextAtMs, r.error, r.id]) }
        }
    }

    public func parkInbound(ids: [Int64], error: String, nowMs: Int64) async throws {
        guard !ids.isEmpty else { return }
        try await committer.run(weight: ids.count) { db in
            let park = try db.cachedStatement(
                sql: "UPDATE inbound_outbox SET state = 1, attempts = attempts + 1, last_error = ? WHERE id = ?"
            )
            for id in ids { try park.execute(arguments: [error, id]) }
        }
    }

    public func retryParkedInbound(account: String?, nowMs: Int64) async throws -> Int {
        try await committer.run(weight: 100) { db in
            try db.execute(
                sql: """
                    UPDATE inbound_outbox SET state = 0, attempts = 0, next_at = ?1, created_at = ?1
                    WHERE state = 1 AND (?2 IS NULL OR account = ?2)
                    """,
                arguments: [nowMs, account]
            )
            return db.changesCount
        }
    }

    public func inboundOutboxCounts() async throws -> OutboxCounts {
        try await readAside { db in
            let row = try Row.fetchOne(
                db,
                sql: "SELECT COALESCE(SUM(state = 0), 0), COALESCE(SUM(state = 1), 0) FROM inbound_outbox"
            )
            return OutboxCounts(pending: row?[0] ?? 0, parked: row?[1] ?? 0)
        }
    }
}
