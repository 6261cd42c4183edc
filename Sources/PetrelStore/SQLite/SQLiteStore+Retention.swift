import GRDB
public import PetrelCore

/// Retention on SQLite: each call is one short write through the group committer (weighted by its limit, so
/// it shares a transaction only with small work), the rows chosen through the partial indexes of `v9-retention`.
extension SQLiteStore {
    private static let final = MessageStatus.finalFloor

    public func retentionAccounts() async throws -> [String] {
        try await readAside { db in
            var accounts = Set<String>()
            // A skip scan: one index seek per account, however many rows each has.
            for sql in [
                "SELECT account FROM messages WHERE status >= \(Self.final) AND account > ? ORDER BY account LIMIT 1",
                "SELECT account FROM sandbox_inbox WHERE account > ? ORDER BY account LIMIT 1",
                "SELECT account FROM campaigns WHERE account > ? ORDER BY account LIMIT 1",
                "SELECT account FROM conversions WHERE account > ? ORDER BY account LIMIT 1",
                "SELECT account FROM conversion_data WHERE account > ? ORDER BY account LIMIT 1",
                "SELECT account FROM stats_hours WHERE account > ? ORDER BY account LIMIT 1",
            ] {
                var last = ""
                while let next = try String.fetchOne(db, sql: sql, arguments: [last]) {
                    accounts.insert(next)
                    last = next
                }
            }
            return accounts.sorted()
        }
    }

    public func purgeMessages(account: String, finishedBeforeMs: Int64, limit: Int) async throws -> PurgeCounts {
        try await committer.run(weight: limit) { db in
            let ids = try Int64.fetchAll(
                db,
                sql: """
                    SELECT id FROM messages INDEXED BY messages_final_done
                    WHERE account = ? AND status >= \(Self.final) AND done_at < ? ORDER BY done_at LIMIT ?
                    """,
                arguments: [account, finishedBeforeMs, limit]
            )
            guard !ids.isEmpty else { return PurgeCounts() }
            let list = ids.map(String.init).joined(separator: ",")
            var counts = PurgeCounts()
            try db.execute(sql: "DELETE FROM message_parts WHERE message_id IN (\(list))")
            counts.parts = db.changesCount
            try db.execute(sql: "DELETE FROM message_events WHERE message_id IN (\(list))")
            counts.events = db.changesCount
            // A receipt no ESME bound for before the message was purged goes with it.
            try db.execute(sql: "DELETE FROM smpp_receipts WHERE message_id IN (\(list))")
            try db.execute(sql: "DELETE FROM messages WHERE id IN (\(list))")
            counts.messages = db.changesCount
            return counts
        }
    }

    public func purgeOutbox(account: String, createdBeforeMs: Int64, limit: Int) async throws -> Int {
        try await committer.run(weight: limit) { db in
            // Waiting and parked rows by the outbox's partial indexes on account (a receiver down for days fills
            // the outbox; each account then walks only its own rows).
            var deleted = 0
            for state in [0, 1] {
                try db.execute(
                    sql: """
                        DELETE FROM receipt_outbox WHERE id IN (
                            SELECT id FROM receipt_outbox WHERE account = ? AND state = \(state) AND created_at < ? LIMIT ?)
                        """,
                    arguments: [account, createdBeforeMs, limit]
                )
                deleted += db.changesCount
            }
            return deleted
        }
    }

    public func purgeableCounts(account: String, finishedBeforeMs: Int64) async throws -> PurgeCounts {
        try await readAside { db in
            let chosen = """
                SELECT id FROM messages INDEXED BY messages_final_done
                WHERE account = ? AND status >= \(Self.final) AND done_at < ?
                """
            let arguments: StatementArguments = [account, finishedBeforeMs]
            func count(_ sql: String, _ arguments: StatementArguments) throws -> Int {
                try Int.fetchOne(db, sql: sql, arguments: arguments) ?? 0
            }
            return PurgeCounts(
                messages: try count("SELECT COUNT(*) FROM (\(chosen))", arguments),
                parts: try count("SELECT COUNT(*) FROM message_parts WHERE message_id IN (\(chosen))", arguments),
                events: try count("SELECT COUNT(*) FROM message_events WHERE message_id IN (\(chosen))", arguments),
                receipts: try count(
                    "SELECT COUNT(*) FROM receipt_outbox WHERE account = ? AND created_at < ?",
                    arguments
                ),
                conversions: try count(
                    """
                    SELECT (SELECT COUNT(*) FROM conversions WHERE account = ?1 AND received_at < ?2)
                        + (SELECT COUNT(*) FROM conversion_data WHERE account = ?1 AND received_at < ?2)
                    """,
                    arguments
                )
            )
        }
    }

    public func redactTexts(account: String, type: MessageType, finishedBeforeMs: Int64, limit: Int) async throws -> Int
    {
        try await committer.run(weight: limit) { db in
            try db.execute(
                sql: """
                    UPDATE messages SET body = '' WHERE id IN (
                        SELECT id FROM messages INDEXED BY messages_unredacted
                        WHERE account = ? AND type = ? AND status >= \(Self.final) AND body != '' AND done_at < ?
                        ORDER BY done_at LIMIT ?)
                    """,
                arguments: [account, type.rawValue, finishedBeforeMs, limit]
            )
            return db.changesCount
        }
    }

    public func purgeConversions(account: String, receivedBeforeMs: Int64, limit: Int) async throws -> Int {
        try await committer.run(weight: limit) { db in
            var deleted = 0
            for table in ["conversions", "conversion_data"] {
                try db.execute(
                    sql: """
                        DELETE FROM \(table) WHERE rowid IN (
                            SELECT rowid FROM \(table) WHERE account = ? AND received_at < ? ORDER BY received_at
                            LIMIT ?)
                        """,
                    arguments: [account, receivedBeforeMs, limit]
                )
                deleted += db.changesCount
            }
            return deleted
        }
    }

    public func purgeSandbox(account: String, receivedBeforeMs: Int64, limit: Int) async throws -> Int {
        try await committer.run(weight: limit) { db in
            try db.execute(
                sql: """
                    DELETE FROM sandbox_inbox WHERE rowid IN (
                        SELECT rowid FROM sandbox_inbox WHERE account = ? AND received_at < ? ORDER BY received_at
                        LIMIT ?)
                    """,
                arguments: [account, receivedBeforeMs, limit]
            )
            return db.changesCount
        }
    }

    public var writerBusyNanoseconds: UInt64? { committer.busyNanoseconds }

    public func purgeCampaigns(account: String, updatedBeforeMs: Int64, limit: Int) async throws -> Int {
        try await committer.run(weight: limit) { db in
            let ids = try Int64.fetchAll(
                db,
                sql: """
                    SELECT id FROM campaigns WHERE account = ? AND status IN (\(Self.finishedCampaigns))
                        AND updated_at < ? ORDER BY id LIMIT ?
                    """,
                arguments: [account, updatedBeforeMs, limit]
            )
            guard !ids.isEmpty else { return 0 }
            let list = ids.map(String.init).joined(separator: ",")
            try db.execute(sql: "DELETE FROM campaign_rows WHERE campaign_id IN (\(list))")
            try db.execute(sql: "DELETE FROM campaign_reports WHERE campaign_id IN (\(list))")
            try db.execute(sql: "DELETE FROM campaign_outcomes WHERE campaign_id IN (\(list))")
            try db.execute(sql: "DELETE FROM campaigns WHERE id IN (\(list))")
            return db.changesCount
        }
    }

    static let finishedCampaigns = CampaignStatus.allCases.filter(\.isFinal).map { "'\($0.rawValue)'" }
        .joined(separator: ",")
}
