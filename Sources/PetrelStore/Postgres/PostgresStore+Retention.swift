public import PetrelCore
import PostgresNIO

/// Retention on PostgreSQL: every call is one statement (one transaction) whose selecting subquery locks the rows
/// it takes with `FOR UPDATE SKIP LOCKED`: nodes purging at once take disjoint rows, each row is deleted once, and
/// nothing but the database coordinates them (no lease to expire when a node dies mid-round).
extension PostgresStore {
    private static let final = MessageStatus.finalFloor

    public func retentionAccounts() async throws -> [String] {
        var accounts = Set<String>()
        // A skip scan: one index seek per account, however many rows each has.
        for (table, filter) in [
            ("messages", "status >= \(Self.final) AND"), ("sandbox_inbox", ""), ("campaigns", ""), ("conversions", ""),
            ("conversion_data", ""), ("stats_hours", ""),
        ] {
            var last = ""
            while let next = try await first(
                """
                SELECT account FROM \(unescaped: table) WHERE \(unescaped: filter) account > \(last)
                ORDER BY account LIMIT 1
                """,
                { try $0.get(0, as: String.self) }
            ) {
                accounts.insert(next)
                last = next
            }
        }
        return accounts.sorted()
    }

    public func purgeMessages(account: String, finishedBeforeMs: Int64, limit: Int) async throws -> PurgeCounts {
        let counts = try await first(
            """
            WITH chosen AS (
                SELECT id FROM messages WHERE account = \(account) AND status >= \(unescaped: Self.final)
                    AND done_at < \(finishedBeforeMs) ORDER BY done_at LIMIT \(limit) FOR UPDATE SKIP LOCKED),
            p AS (DELETE FROM message_parts WHERE message_id IN (SELECT id FROM chosen) RETURNING 1),
            e AS (DELETE FROM message_events WHERE message_id IN (SELECT id FROM chosen) RETURNING 1),
            -- A receipt no ESME bound for before the message was purged goes with it.
            r AS (DELETE FROM smpp_receipts WHERE message_id IN (SELECT id FROM chosen)),
            m AS (DELETE FROM messages WHERE id IN (SELECT id FROM chosen) RETURNING 1)
            SELECT (SELECT COUNT(*) FROM m), (SELECT COUNT(*) FROM p), (SELECT COUNT(*) FROM e)
            """
        ) {
            PurgeCounts(
                messages: Int(try $0.get(0, as: Int64.self)),
                parts: Int(try $0.get(1, as: Int64.self)),
                events: Int(try $0.get(2, as: Int64.self))
            )
        }
        return counts ?? PurgeCounts()
    }

    public func purgeOutbox(account: String, createdBeforeMs: Int64, limit: Int) async throws -> Int {
        // Waiting and parked rows by the outbox's partial indexes on account (as in SQLite).
        var deleted = 0
        for state in ["0", "1"] {
            deleted += try await run(
                """
                DELETE FROM receipt_outbox WHERE id IN (
                    SELECT id FROM receipt_outbox WHERE account = \(account) AND state = \(unescaped: state)
                        AND created_at < \(createdBeforeMs) LIMIT \(limit) FOR UPDATE SKIP LOCKED)
                RETURNING 1
                """
            )
        }
        return deleted
    }

    public func purgeableCounts(account: String, finishedBeforeMs: Int64) async throws -> PurgeCounts {
        let counts = try await first(
            """
            WITH chosen AS (
                SELECT id FROM messages WHERE account = \(account) AND status >= \(unescaped: Self.final)
                    AND done_at < \(finishedBeforeMs))
            SELECT (SELECT COUNT(*) FROM chosen),
                (SELECT COUNT(*) FROM message_parts WHERE message_id IN (SELECT id FROM chosen)),
                (SELECT COUNT(*) FROM message_events WHERE message_id IN (SELECT id FROM chosen)),
                (SELECT COUNT(*) FROM receipt_outbox WHERE account = \(account) AND created_at < \(finishedBeforeMs)),
                (SELECT COUNT(*) FROM conversions WHERE account = \(account) AND received_at < \(finishedBeforeMs))
                    + (SELECT COUNT(*) FROM conversion_data WHERE account = \(account)
                        AND received_at < \(finishedBeforeMs))
            """
        ) {
            PurgeCounts(
                messages: Int(try $0.get(0, as: Int64.self)),
                parts: Int(try $0.get(1, as: Int64.self)),
                events: Int(try $0.get(2, as: Int64.self)),
                receipts: Int(try $0.get(3, as: Int64.self)),
                conversions: Int(try $0.get(4, as: Int64.self))
            )
        }
        return counts ?? PurgeCounts()
    }

    public func redactTexts(account: String, type: MessageType, finishedBeforeMs: Int64, limit: Int) async throws -> Int
    {
        try await run(
            """
            UPDATE messages SET body = '' WHERE id IN (
                SELECT id FROM messages WHERE account = \(account) AND type = \(type.rawValue)
                    AND status >= \(unescaped: Self.final) AND body <> '' AND done_at < \(finishedBeforeMs)
                ORDER BY done_at LIMIT \(limit) FOR UPDATE SKIP LOCKED)
            RETURNING 1
            """
        )
    }

    public func purgeConversions(account: String, receivedBeforeMs: Int64, limit: Int) async throws -> Int {
        var deleted = 0
        for table in ["conversions", "conversion_data"] {
            deleted += try await run(
                """
                DELETE FROM \(unescaped: table) WHERE seq IN (
                    SELECT seq FROM \(unescaped: table) WHERE account = \(account) AND received_at < \(receivedBeforeMs)
                    ORDER BY received_at LIMIT \(limit) FOR UPDATE SKIP LOCKED)
                RETURNING 1
                """
            )
        }
        return deleted
    }

    public func purgeSandbox(account: String, receivedBeforeMs: Int64, limit: Int) async throws -> Int {
        try await run(
            """
            DELETE FROM sandbox_inbox WHERE seq IN (
                SELECT seq FROM sandbox_inbox WHERE account = \(account) AND received_at < \(receivedBeforeMs)
                ORDER BY received_at LIMIT \(limit) FOR UPDATE SKIP LOCKED)
            RETURNING 1
            """
        )
    }

    /// Writes run side by side on the server's connections: no one writer to yield to.
    public var writerBusyNanoseconds: UInt64? { nil }

    public func purgeCampaigns(account: String, updatedBeforeMs: Int64, limit: Int) async throws -> Int {
        let finished = CampaignStatus.allCases.filter(\.isFinal).map { "'\($0.rawValue)'" }.joined(separator: ",")
        let purged = try await first(
            """
            WITH chosen AS (
                SELECT id FROM campaigns WHERE account = \(account) AND status IN (\(unescaped: finished))
                    AND updated_at < \(updatedBeforeMs) ORDER BY id LIMIT \(limit) FOR UPDATE SKIP LOCKED),
            r AS (DELETE FROM campaign_rows WHERE campaign_id IN (SELECT id FROM chosen)),
            p AS (DELETE FROM campaign_reports WHERE campaign_id IN (SELECT id FROM chosen)),
            o AS (DELETE FROM campaign_outcomes WHERE campaign_id IN (SELECT id FROM chosen)),
            c AS (DELETE FROM campaigns WHERE id IN (SELECT id FROM chosen) RETURNING 1)
            SELECT COUNT(*) FROM c
            """,
            { try $0.get(0, as: Int64.self) }
        )
        return Int(purged ?? 0)
    }
}
