import Foundation
import GRDB
import PetrelCore

extension SQLiteStore {
    public func storeInbound(_ parts: [InboundPart], rules: InboundRules, nowMs: Int64) async throws -> InboundStored {
        guard !parts.isEmpty else { return InboundStored() }
        return try await committer.run(weight: parts.count * 3) { db in
            var out = InboundStored()
            let seen = try db.cachedStatement(
                sql: "SELECT 1 FROM inbound_parts WHERE fingerprint = ? AND received_at >= ? LIMIT 1"
            )
            let taken = try db.cachedStatement(
                sql: "SELECT 1 FROM inbound_parts WHERE group_key = ? AND seq = ? AND done = 0 LIMIT 1"
            )
            let insert = try db.cachedStatement(
                sql: """
                    INSERT INTO inbound_parts (fingerprint, group_key, seq, total, channel, sender, dest, data_coding,
                        body, account, received_at, done)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """
            )
            var groups: [String] = []
            for p in parts {
                let fingerprint = p.fingerprint
                // A duplicate in the same batch is caught too: the first one's row is visible here.
                if try Row.fetchOne(seen, arguments: [fingerprint, p.receivedAtMs - rules.duplicateWindowMs]) != nil {
                    out.duplicates += 1
                    continue
                }
                // The same place again with other bytes: only the first is read (`assemble`), so it is a duplicate;
                // storing it let a peer grow one group without end.
                if let c = p.concat, try Row.fetchOne(taken, arguments: [p.groupKey, c.seq]) != nil {
                    out.duplicates += 1
                    continue
                }
                try insert.execute(
                    arguments: [
                        fingerprint, p.groupKey, p.concat?.seq ?? 1, p.concat?.total ?? 1, p.channel, p.from, p.to,
                        Int(p.dataCoding), Data(p.body), p.account, p.receivedAtMs, p.concat == nil ? 1 : 0,
                    ]
                )
                if p.concat == nil {
                    try Self.makeInbound(db, [p], partIds: [], rules: rules, nowMs: nowMs, into: &out)
                    out.messages += 1
                } else if !groups.contains(p.groupKey) {
                    groups.append(p.groupKey)
                }
            }
            for key in groups {
                let pending = try Self.pendingParts(db, group: key)
                guard let total = pending.first?.part.concat?.total,
                    Set(pending.compactMap { $0.part.concat?.seq }).count >= total
                else { continue }
                try Self.makeInbound(
                    db,
                    pending.map(\.part),
                    partIds: pending.map(\.id),
                    rules: rules,
                    nowMs: nowMs,
                    into: &out
                )
                out.messages += 1
            }
            guard !groups.isEmpty else { return out }
            var count = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM inbound_parts WHERE done = 0") ?? 0
            while count > rules.maxPendingParts,
                let key = try String.fetchOne(
                    db,
                    sql: "SELECT group_key FROM inbound_parts WHERE done = 0 ORDER BY received_at, id LIMIT 1"
                )
            {
                let pending = try Self.pendingParts(db, group: key)
                try Self.makeInbound(
                    db,
                    pending.map(\.part),
                    partIds: pending.map(\.id),
                    rules: rules,
                    nowMs: nowMs,
                    into: &out
                )
                out.messages += 1
                count -= pending.count
            }
            out.pending = count
            return out
        }
    }

    public func releaseInboundParts(olderThanMs: Int64, rules: InboundRules, nowMs: Int64) async throws -> Int {
        try await committer.run(weight: 100) { db in
            var made = 0
            var out = InboundStored()
            // A bounded round: the rest waits for the next call (a second later), so the writer is not held long.
            while made < 1000,
                let key = try String.fetchOne(
                    db,
                    sql: """
                        SELECT group_key FROM inbound_parts WHERE done = 0 AND received_at < ?
                        ORDER BY received_at, id LIMIT 1
                        """,
                    arguments: [olderThanMs]
                )
            {
                let pending = try Self.pendingParts(db, group: key)
                try Self.makeInbound(
                    db,
                    pending.map(\.part),
                    partIds: pending.map(\.id),
                    rules: rules,
                    nowMs: nowMs,
                    into: &out
                )
                made += 1
            }
            return made
        }
    }

    public func pruneInboundParts(beforeMs: Int64) async throws -> Int {
        try await committer.run(weight: 100) { db in
            try db.execute(
                sql: """
                    DELETE FROM inbound_parts WHERE id IN
                        (SELECT id FROM inbound_parts WHERE done = 1 AND received_at < ? ORDER BY received_at LIMIT 10000)
                    """,
                arguments: [beforeMs]
            )
            return db.changesCount
        }
    }

    public func purgeInbound(receivedBeforeMs: Int64, limit: Int) async throws -> Int {
        try await committer.run(weight: limit) { db in
            let old = """
                SELECT id FROM (SELECT id, received_at FROM inbound ORDER BY id LIMIT ?2) WHERE received_at < ?1
                """
            try db.execute(
                sql: "DELETE FROM inbound_outbox WHERE inbound_id IN (\(old))",
                arguments: [receivedBeforeMs, limit]
            )
            try db.execute(
                sql: "DELETE FROM smpp_mo WHERE inbound_id IN (\(old))",
                arguments: [receivedBeforeMs, limit]
            )
            try db.execute(sql: "DELETE FROM inbound WHERE id IN (\(old))", arguments: [receivedBeforeMs, limit])
            return db.changesCount
        }
    }

    public func pendingInboundParts() async throws -> Int {
        try await readAside { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM inbound_parts WHERE done = 0") ?? 0
        }
    }

    static func pendingParts(_ db: Database, group: String) throws -> [(id: Int64, part: InboundPart)] {
        try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT id, seq, total, channel, sender, dest, data_coding, body, account, received_at
                    FROM inbound_parts WHERE group_key = ? AND done = 0 ORDER BY seq, id
                    """
            ),
            arguments: [group]
        ).map { row in
            let data: Data = row[7]
            let part = InboundPart(
                channel: row[3],
                from: row[4],
                to: row[5],
                dataCoding: UInt8(truncatingIfNeeded: row[6] as Int),
                body: Array(data),
                concat: .init(reference: 0, total: row[2], seq: row[1]),
                receivedAtMs: row[9],
                account: row[8]
            )
            return (row[0], part)
        }
    }

    /// One inbound message from `parts` (the parts rows `partIds` are marked done), in the outbox when its account
    /// has an inbound URL; a whole one that is an opt-out keyword changes its account's suppression list.
    static func makeInbound(
        _ db: Database,
        _ parts: [InboundPart],
        partIds: [Int64],
        rules: InboundRules,
        nowMs: Int64,
        into out: inout InboundStored
    ) throws {
        guard let first = parts.first else { return }
        let (text, encoding, incomplete) = InboundText.assemble(parts)
        let since = nowMs - rules.replyWindowMs
        let replied = try lastSent(db, phone: first.from, account: first.account, sinceMs: since)
        let account = first.account ?? replied?.account ?? rules.defaultAccount
        let receivedAt = parts.map(\.receivedAtMs).min() ?? nowMs
        try db.cachedStatement(
            sql: """
                INSERT INTO inbound (account, sender, dest, text, encoding, parts, incomplete, channel, received_at,
                    dest_code)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(
            arguments: [
                account, first.from, first.to, text, encoding, parts.count, incomplete ? 1 : 0, first.channel,
                receivedAt, replied?.extendCode ?? "",
            ]
        )
        let id = db.lastInsertedRowID
        try db.cachedStatement(
            sql: """
                INSERT INTO inbound_outbox (account, inbound_id, created_at, next_at)
                SELECT ?1, ?2, ?3, ?3 WHERE EXISTS (SELECT 1 FROM accounts WHERE name = ?1 AND mo_url != '')
                """
        ).execute(arguments: [account, id, nowMs])
        let done = try db.cachedStatement(sql: "UPDATE inbound_parts SET done = 1 WHERE id = ?")
        for partId in partIds { try done.execute(arguments: [partId]) }
        if !incomplete {
            try optOutByKeyword(
                db,
                account: account,
                from: first.from,
                to: first.to,
                text: text,
                rules: rules,
                nowMs: nowMs,
                into: &out
            )
        }
    }

    /// The message last sent to `phone` since `sinceMs` (by `account` when given): its account and
    /// SmsUpExtendCode (a message enters `messages_sent_to` once sent).
    static func lastSent(
        _ db: Database,
        phone: String,
        account: String?,
        sinceMs: Int64
    ) throws -> (account: String, extendCode: String)? {
        try Row.fetchOne(
            db.cachedStatement(
                sql: """
                    SELECT account, ext_code FROM messages WHERE recipient = ?1 AND sent_at IS NOT NULL AND sent_at >= ?2
                    AND (?3 IS NULL OR account = ?3) ORDER BY sent_at DESC LIMIT 1
                    """
            ),
            arguments: [phone, sinceMs, account]
        ).map { ($0[0], $0[1]) }
    }

    public func inboundMessages(account: String?, from: String?, limit: Int) async throws -> [InboundMessage] {
        try await readAside { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT \(Self.inboundColumns()) FROM inbound
                    WHERE (?1 IS NULL OR account = ?1) AND (?2 IS NULL OR sender = ?2) ORDER BY id DESC LIMIT ?3
                    """,
                arguments: [account, from, limit]
            ).map { Self.inboundMessage($0, at: 0) }
        }
    }

    public func inboundWithPush(account: String, from: String?, limit: Int) async throws -> [InboundRow] {
        try await readAside { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT \(Self.inboundColumns("i.")), o.state, o.attempts, o.last_error, o.next_at
                    FROM inbound i LEFT JOIN inbound_outbox o ON o.inbound_id = i.id
                    WHERE i.account = ?1 AND (?2 IS NULL OR i.sender = ?2) ORDER BY i.id DESC LIMIT ?3
                    """,
                arguments: [account, from, limit]
            ).map { row in
                InboundRow(
                    message: Self.inboundMessage(row, at: 0),
                    state: row[11],
                    attempts: row[12] ?? 0,
                    lastError: row[13] ?? "",
                    nextAtMs: row[14] ?? 0
                )
            }
        }
    }

    static func inboundColumns(_ prefix: String = "") -> String {
        [
            "id", "account", "sender", "dest", "text", "encoding", "parts", "incomplete", "channel", "received_at",
            "dest_code",
        ]
        .map { prefix + $0 }.joined(separator: ", ")
    }

    static func inboundMessage(_ row: Row, at o: Int) -> InboundMessage {
        InboundMessage(
            id: row[o],
            account: row[o + 1],
            from: row[o + 2],
            to: row[o + 3],
            text: row[o + 4],
            encoding: row[o + 5],
            parts: row[o + 6],
            incomplete: row[o + 7],
            channel: row[o + 8],
            receivedAtMs: row[o + 9],
            destCode: row[o + 10]
        )
    }
}
