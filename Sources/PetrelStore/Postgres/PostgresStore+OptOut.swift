import Foundation
import PetrelCore
import PostgresNIO

extension PostgresStore {
    public func optOut(
        account: String,
        phones: [String],
        source: String,
        maxPhones: Int,
        nowMs: Int64
    ) async throws -> Int {
        let phones = SQLiteStore.distinct(phones)
        guard !phones.isEmpty else { return 0 }
        return try await transaction { c in
            let (version, listed) = try await nextOptOutVersion(c)
            let added = try await setOptOut(c, account, phones, true, source: source, nowMs: nowMs, version: version)
            // Thrown, the transaction rolls back: nothing is added.
            guard listed + added <= maxPhones else { throw OptOutListFull(maxPhones: maxPhones) }
            return added
        }
    }

    public func optIn(account: String, phones: [String], source: String, nowMs: Int64) async throws -> Int {
        let phones = SQLiteStore.distinct(phones)
        guard !phones.isEmpty else { return 0 }
        return try await transaction { c in
            let version = try await nextOptOutVersion(c).version
            return try await setOptOut(c, account, phones, false, source: source, nowMs: nowMs, version: version)
        }
    }

    public func optOuts(account: String?, limit: Int) async throws -> [OptOutEntry] {
        try await rows(
            """
            SELECT account, phone, opted_out, source, changed_at, version FROM optouts
            WHERE opted_out AND (\(account)::text IS NULL OR account = \(account))
            ORDER BY changed_at DESC, phone LIMIT \(limit)
            """
        ) { try Self.optOutEntry($0) }
    }

    public func optOutChanges(after cursor: OptOutCursor, limit: Int) async throws -> [OptOutEntry] {
        try await rows(
            """
            SELECT account, phone, opted_out, source, changed_at, version FROM optouts
            WHERE (version, account, phone) > (\(cursor.version), \(cursor.account), \(cursor.phone))
            ORDER BY version, account, phone LIMIT \(limit)
            """
        ) { try Self.optOutEntry($0) }
    }

    public func pruneOptIns(beforeMs: Int64) async throws -> Int {
        try await run("DELETE FROM optouts WHERE NOT opted_out AND changed_at < \(beforeMs) RETURNING 1")
    }

    static func optOutEntry(_ r: PostgresRandomAccessRow) throws -> OptOutEntry {
        OptOutEntry(
            account: try r.get(0),
            phone: try r.get(1),
            optedOut: try r.get(2),
            source: try r.get(3),
            changedAtMs: try r.get(4),
            version: try r.get(5)
        )
    }

    /// The next version for this transaction's changes, and how many phones are listed before them. The row stays
    /// locked until the transaction ends: another node's change waits, and takes a later version, so a reader that
    /// sees a version has seen every one below it.
    func nextOptOutVersion(_ c: PostgresConnection) async throws -> (version: Int64, listed: Int) {
        let row = try await first(
            "UPDATE optout_state SET version = version + 1 WHERE id = 1 RETURNING version, phones",
            on: c
        ) { (try $0.get(0, as: Int64.self), try $0.get(1, as: Int.self)) }
        return row ?? (0, 0)
    }

    /// Puts phones on (or takes them off) a list; returns how many changed, and keeps `optout_state.phones` true.
    func setOptOut(
        _ c: PostgresConnection,
        _ account: String,
        _ phones: [String],
        _ optedOut: Bool,
        source: String,
        nowMs: Int64,
        version: Int64
    ) async throws -> Int {
        let changed =
            optedOut
            ? try await run(
                """
                INSERT INTO optouts (account, phone, opted_out, source, changed_at, version)
                SELECT \(account), p, true, \(source), \(nowMs), \(version) FROM unnest(\(phones)::text[]) p
                ON CONFLICT (account, phone) DO UPDATE
                SET opted_out = true, source = EXCLUDED.source, changed_at = EXCLUDED.changed_at, version = EXCLUDED.version
                WHERE NOT optouts.opted_out
                RETURNING 1
                """,
                on: c
            )
            : try await run(
                """
                UPDATE optouts SET opted_out = false, source = \(source), changed_at = \(nowMs), version = \(version)
                WHERE account = \(account) AND phone = ANY(\(phones)) AND opted_out RETURNING 1
                """,
                on: c
            )
        try await run(
            "UPDATE optout_state SET phones = phones + \(optedOut ? changed : -changed) WHERE id = 1",
            on: c
        )
        return changed
    }

    /// An inbound message that is an opt-out keyword, applied in the transaction that stores it.
    func optOutByKeyword(
        _ c: PostgresConnection,
        account: String,
        from: String,
        to: String,
        text: String,
        rules: InboundRules,
        nowMs: Int64,
        into out: inout InboundStored
    ) async throws {
        guard let keywords = rules.optOut, let optedOut = keywords.optsOut(text) else { return }
        let (version, listed) = try await nextOptOutVersion(c)
        if optedOut, listed >= rules.maxOptOutPhones {
            let listedAlready = try await first(
                "SELECT 1 FROM optouts WHERE account = \(account) AND phone = \(from) AND opted_out",
                on: c
            ) { _ in true }
            if listedAlready == nil {
                out.optOutsRefused += 1
                return
            }
        }
        let source = String(text.trimmingCharacters(in: .whitespacesAndNewlines).uppercased().prefix(16))
        // Reported (so confirmed) only when the list changed: a phone repeating STOP, or a carrier sending it again
        // and again, gets one confirmation.
        guard try await setOptOut(c, account, [from], optedOut, source: source, nowMs: nowMs, version: version) > 0
        else { return }
        out.optOuts.append(OptOutChange(account: account, phone: from, optedOut: optedOut, to: to))
    }
}
