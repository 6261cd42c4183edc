import Foundation
import GRDB
import PetrelCore

extension SQLiteStore {
    public func optOut(
        account: String,
        phones: [String],
        source: String,
        maxPhones: Int,
        nowMs: Int64
    ) async throws -> Int {
        let phones = Self.distinct(phones)
        guard !phones.isEmpty else { return 0 }
        return try await committer.run(weight: phones.count) { db in
            let (version, listed) = try Self.nextOptOutVersion(db)
            let added = try Self.setOptOut(db, account, phones, true, source: source, nowMs: nowMs, version: version)
            // Thrown, the transaction rolls back: nothing is added.
            guard listed + added <= maxPhones else { throw OptOutListFull(maxPhones: maxPhones) }
            return added
        }
    }

    public func optIn(account: String, phones: [String], source: String, nowMs: Int64) async throws -> Int {
        let phones = Self.distinct(phones)
        guard !phones.isEmpty else { return 0 }
        return try await committer.run(weight: phones.count) { db in
            let version = try Self.nextOptOutVersion(db).version
            return try Self.setOptOut(db, account, phones, false, source: source, nowMs: nowMs, version: version)
        }
    }

    public func optOuts(account: String?, limit: Int) async throws -> [OptOutEntry] {
        try await readAside { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT account, phone, opted_out, source, changed_at, version FROM optouts
                    WHERE opted_out = 1 AND (?1 IS NULL OR account = ?1) ORDER BY changed_at DESC, phone LIMIT ?2
                    """,
                arguments: [account, limit]
            ).map(Self.optOutEntry)
        }
    }

    public func optOutChanges(after cursor: OptOutCursor, limit: Int) async throws -> [OptOutEntry] {
        try await readAside { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT account, phone, opted_out, source, changed_at, version FROM optouts
                    WHERE (version, account, phone) > (?, ?, ?) ORDER BY version, account, phone LIMIT ?
                    """,
                arguments: [cursor.version, cursor.account, cursor.phone, limit]
            ).map(Self.optOutEntry)
        }
    }

    public func pruneOptIns(beforeMs: Int64) async throws -> Int {
        try await committer.run(weight: 100) { db in
            try db.execute(sql: "DELETE FROM optouts WHERE opted_out = 0 AND changed_at < ?", arguments: [beforeMs])
            return db.changesCount
        }
    }

    static func optOutEntry(_ row: Row) -> OptOutEntry {
        OptOutEntry(
            account: row[0],
            phone: row[1],
            optedOut: row[2],
            source: row[3],
            changedAtMs: row[4],
            version: row[5]
        )
    }

    static func distinct(_ phones: [String]) -> [String] {
        var seen = Set<String>()
        return phones.filter { seen.insert($0).inserted }
    }

    /// The next version for this transaction's changes, and how many phones are listed before them.
    static func nextOptOutVersion(_ db: Database) throws -> (version: Int64, listed: Int) {
        try db.cachedStatement(sql: "UPDATE optout_state SET version = version + 1 WHERE id = 1").execute()
        let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT version, phones FROM optout_state WHERE id = 1"))
        return (row?[0] ?? 0, row?[1] ?? 0)
    }

    /// Puts phones on (or takes them off) a list; returns how many changed, and keeps `optout_state.phones` true.
    static func setOptOut(
        _ db: Database,
        _ account: String,
        _ phones: [String],
        _ optedOut: Bool,
        source: String,
        nowMs: Int64,
        version: Int64
    ) throws -> Int {
        let statement =
            optedOut
            ? try db.cachedStatement(
                sql: """
                    INSERT INTO optouts (account, phone, opted_out, source, changed_at, version) VALUES (?1, ?2, 1, ?3, ?4, ?5)
                    ON CONFLICT (account, phone) DO UPDATE SET opted_out = 1, source = ?3, changed_at = ?4, version = ?5
                    WHERE opted_out = 0
                    """
            )
            : try db.cachedStatement(
                sql: """
                    UPDATE optouts SET opted_out = 0, source = ?3, changed_at = ?4, version = ?5
                    WHERE account = ?1 AND phone = ?2 AND opted_out = 1
                    """
            )
        var changed = 0
        for phone in phones {
            try statement.execute(arguments: [account, phone, source, nowMs, version])
            changed += db.changesCount
        }
        try db.cachedStatement(sql: "UPDATE optout_state SET phones = phones + ? WHERE id = 1")
            .execute(arguments: [optedOut ? changed : -changed])
        return changed
    }

    /// An inbound message that is an opt-out keyword, applied in the transaction that stores it.
    static func optOutByKeyword(
        _ db: Database,
        account: String,
        from: String,
        to: String,
        text: String,
        rules: InboundRules,
        nowMs: Int64,
        into out: inout InboundStored
    ) throws {
        guard let keywords = rules.optOut, let optedOut = keywords.optsOut(text) else { return }
        let (version, listed) = try nextOptOutVersion(db)
        if optedOut, listed >= rules.maxOptOutPhones,
            try Row.fetchOne(
                db.cachedStatement(sql: "SELECT 1 FROM optouts WHERE account = ? AND phone = ? AND opted_out = 1"),
                arguments: [account, from]
            ) == nil
        {
            out.optOutsRefused += 1
            return
        }
        let source = String(text.trimmingCharacters(in: .whitespacesAndNewlines).uppercased().prefix(16))
        // Reported (so confirmed) only when the list changed: a phone repeating STOP, or a carrier sending it again
        // and again, gets one confirmation.
        guard try setOptOut(db, account, [from], optedOut, source: source, nowMs: nowMs, version: version) > 0 else {
            return
        }
        out.optOuts.append(OptOutChange(account: account, phone: from, optedOut: optedOut, to: to))
    }
}
