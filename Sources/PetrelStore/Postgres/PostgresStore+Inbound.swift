import Foundation
import PetrelCore
import PostgresNIO

extension PostgresStore {
    /// As SQLite's, with nodes side by side: each transaction first takes an advisory lock per group (per fingerprint
    /// for a whole message), in one order, so two nodes given parts of one message (or one part twice) take turns and
    /// the second sees what the first stored.
    public func storeInbound(_ parts: [InboundPart], rules: InboundRules, nowMs: Int64) async throws -> InboundStored {
        guard !parts.isEmpty else { return InboundStored() }
        let keys = Array(Set(parts.map { $0.concat == nil ? "f\($0.fingerprint)" : "g\($0.groupKey)" }))
        return try await transaction { c in
            var out = InboundStored()
            try await run(
                """
                SELECT pg_advisory_xact_lock(\(Self.inboundLockSpace), h)
                FROM (SELECT DISTINCT hashtext(k) AS h FROM unnest(\(keys)::text[]) k) l ORDER BY h
                """,
                on: c
            )
            let (new, duplicates) = try await newInboundParts(c, parts, rules: rules)
            out.duplicates = duplicates
            try await insertInboundParts(c, new)
            let whole = new.filter { $0.concat == nil }
            try await makeWholeInbound(c, whole, rules: rules, nowMs: nowMs, into: &out)
            out.messages += whole.count
            var groups: [String] = []
            for p in new where p.concat != nil && !groups.contains(p.groupKey) { groups.append(p.groupKey) }
            // Which groups have every place now, in one query; only those are read.
            let complete = Set(
                try await rows(
                    """
                    SELECT group_key FROM inbound_parts WHERE NOT done AND group_key = ANY(\(groups))
                    GROUP BY group_key HAVING COUNT(DISTINCT seq) >= MIN(total)
                    """,
                    on: c,
                    { try $0.get(0, as: String.self) }
                )
            )
            for key in groups where complete.contains(key) {
                let pending = try await pendingParts(c, group: key)
                guard let total = pending.first?.part.concat?.total,
                    Set(pending.compactMap { $0.part.concat?.seq }).count >= total
                else { continue }
                try await makeInbound(
                    c,
                    pending.map(\.part),
                    partIds: pending.map(\.id),
                    rules: rules,
                    nowMs: nowMs,
                    into: &out
                )
                out.messages += 1
            }
            guard !groups.isEmpty else { return out }
            var count =
                try await first("SELECT COUNT(*) FROM inbound_parts WHERE NOT done", on: c) {
                    try $0.get(0, as: Int.self)
                } ?? 0
            while count > rules.maxPendingParts,
                let key = try await first(
                    "SELECT group_key FROM inbound_parts WHERE NOT done ORDER BY received_at, id LIMIT 1",
                    on: c,
                    { try $0.get(0, as: String.self) }
                )
            {
                let pending = try await pendingParts(c, group: key)
                try await makeInbound(
                    c,
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

    /// The first key of `pg_advisory_xact_lock(int, int)` for inbound parts ("MO").
    static let inboundLockSpace: Int32 = 0x4D4F

    public func releaseInboundParts(olderThanMs: Int64, rules: InboundRules, nowMs: Int64) async throws -> Int {
        let keys = try await rows(
            """
            SELECT group_key FROM inbound_parts WHERE NOT done AND received_at < \(olderThanMs)
            GROUP BY group_key ORDER BY MIN(received_at) LIMIT 1000
            """
        ) { try $0.get(0, as: String.self) }
        var made = 0
        for key in keys {
            made += try await transaction { c in
                try await run("SELECT pg_advisory_xact_lock(\(Self.inboundLockSpace), hashtext(\("g" + key)))", on: c)
                // Another node may have completed or released it meanwhile.
                let pending = try await pendingParts(c, group: key)
                guard !pending.isEmpty else { return 0 }
                var out = InboundStored()
                try await makeInbound(
                    c,
                    pending.map(\.part),
                    partIds: pending.map(\.id),
                    rules: rules,
                    nowMs: nowMs,
                    into: &out
                )
                return 1
            }
        }
        return made
    }

    public func pruneInboundParts(beforeMs: Int64) async throws -> Int {
        try await run(
            """
            DELETE FROM inbound_parts WHERE id IN
                (SELECT id FROM inbound_parts WHERE done AND received_at < \(beforeMs) ORDER BY received_at LIMIT 10000)
            RETURNING 1
            """
        )
    }

    public func purgeInbound(receivedBeforeMs: Int64, limit: Int) async throws -> Int {
        try await run(
            """
            WITH old AS (
                SELECT id FROM (SELECT id, received_at FROM inbound ORDER BY id LIMIT \(limit)) o
                WHERE received_at < \(receivedBeforeMs)
            ), outbox AS (DELETE FROM inbound_outbox WHERE inbound_id IN (SELECT id FROM old))
            , mo AS (DELETE FROM smpp_mo WHERE inbound_id IN (SELECT id FROM old))
            DELETE FROM inbound WHERE id IN (SELECT id FROM old) RETURNING 1
            """
        )
    }

    public func pendingInboundParts() async throws -> Int {
        try await first("SELECT COUNT(*) FROM inbound_parts WHERE NOT done") { try $0.get(0, as: Int.self) } ?? 0
    }

    func pendingParts(_ c: PostgresConnection, group: String) async throws -> [(id: Int64, part: InboundPart)] {
        try await rows(
            """
            SELECT id, seq, total, channel, sender, dest, data_coding, body, account, received_at
            FROM inbound_parts WHERE group_key = \(group) AND NOT done ORDER BY seq, id
            """,
            on: c
        ) { r in
            let part = InboundPart(
                channel: try r.get(3),
                from: try r.get(4),
                to: try r.get(5),
                dataCoding: UInt8(truncatingIfNeeded: try r.get(6, as: Int.self)),
                body: Array(try r.get(7, as: Data.self)),
                concat: .init(reference: 0, total: try r.get(2), seq: try r.get(1)),
                receivedAtMs: try r.get(9),
                account: try r.get(8, as: String?.self)
            )
            return (try r.get(0, as: Int64.self), part)
        }
    }

    func makeInbound(
        _ c: PostgresConnection,
        _ parts: [InboundPart],
        partIds: [Int64],
        rules: InboundRules,
        nowMs: Int64,
        into out: inout InboundStored
    ) async throws {
        guard let head = parts.first else { return }
        let (text, encoding, incomplete) = InboundText.assemble(parts)
        // The message last sent to the phone (by the part's account when it has one): its account owns the reply,
        // its SmsUpExtendCode is the reply's dest_code.
        let replied = try await first(
            """
            SELECT account, ext_code FROM messages
            WHERE recipient = \(head.from) AND sent_at IS NOT NULL AND sent_at >= \(nowMs - rules.replyWindowMs)
                AND (\(head.account)::text IS NULL OR account = \(head.account))
            ORDER BY sent_at DESC LIMIT 1
            """,
            on: c
        ) { (account: try $0.get(0, as: String.self), extendCode: try $0.get(1, as: String.self)) }
        let owner = head.account ?? replied?.account ?? rules.defaultAccount
        let receivedAt = parts.map(\.receivedAtMs).min() ?? nowMs
        try await run(
            """
            WITH i AS (
                INSERT INTO inbound (account, sender, dest, text, encoding, parts, incomplete, channel, received_at,
                    dest_code)
                VALUES (\(owner), \(head.from), \(head.to), \(text), \(encoding), \(parts.count), \(incomplete),
                    \(head.channel), \(receivedAt), \(replied?.extendCode ?? ""))
                RETURNING id
            )
            INSERT INTO inbound_outbox (account, inbound_id, created_at, next_at)
            SELECT \(owner), i.id, \(nowMs), \(nowMs) FROM i
            WHERE EXISTS (SELECT 1 FROM accounts WHERE name = \(owner) AND mo_url <> '')
            """,
            on: c
        )
        if !partIds.isEmpty {
            try await run("UPDATE inbound_parts SET done = true WHERE id = ANY(\(partIds))", on: c)
        }
        if !incomplete {
            try await optOutByKeyword(
                c,
                account: owner,
                from: head.from,
                to: head.to,
                text: text,
                rules: rules,
                nowMs: nowMs,
                into: &out
            )
        }
    }

    static let inboundColumns =
        "i.id, i.account, i.sender, i.dest, i.text, i.encoding, i.parts, i.incomplete, i.channel, i.received_at, i.dest_code"

    static func inboundMessage(_ r: PostgresRandomAccessRow, at o: Int) throws -> InboundMessage {
        InboundMessage(
            id: try r.get(o),
            account: try r.get(o + 1),
            from: try r.get(o + 2),
            to: try r.get(o + 3),
            text: try r.get(o + 4),
            encoding: try r.get(o + 5),
            parts: try r.get(o + 6),
            incomplete: try r.get(o + 7),
            channel: try r.get(o + 8),
            receivedAtMs: try r.get(o + 9),
            destCode: try r.get(o + 10)
        )
    }

    public func inboundMessages(account: String?, from: String?, limit: Int) async throws -> [InboundMessage] {
        try await rows(
            """
            SELECT \(unescaped: Self.inboundColumns) FROM inbound i
            WHERE (\(account)::text IS NULL OR i.account = \(account)) AND (\(from)::text IS NULL OR i.sender = \(from))
            ORDER BY i.id DESC LIMIT \(limit)
            """
        ) { try Self.inboundMessage($0, at: 0) }
    }

    public func inboundWithPush(account: String, from: String?, limit: Int) async throws -> [InboundRow] {
        try await rows(
            """
            SELECT \(unescaped: Self.inboundColumns), o.state, o.attempts, o.last_error, o.next_at
            FROM inbound i LEFT JOIN inbound_outbox o ON o.inbound_id = i.id
            WHERE i.account = \(account) AND (\(from)::text IS NULL OR i.sender = \(from))
            ORDER BY i.id DESC LIMIT \(limit)
            """
        ) { r in
            InboundRow(
                message: try Self.inboundMessage(r, at: 0),
                state: try r.get(11, as: Int?.self),
                attempts: try r.get(12, as: Int?.self) ?? 0,
                lastError: try r.get(13, as: String?.self) ?? "",
                nextAtMs: try r.get(14, as: Int64?.self) ?? 0
            )
        }
    }

    public func dueInbound(account: String, nowMs: Int64, limit: Int) async throws -> [OutboxInbound] {
        try await rows(
            """
            SELECT o.id, o.attempts, o.created_at, o.last_error, \(unescaped: Self.inboundColumns)
            FROM inbound_outbox o JOIN inbound i ON i.id = o.inbound_id
            WHERE o.state = 0 AND o.account = \(account) AND o.next_at <= \(nowMs) ORDER BY o.next_at, o.id LIMIT \(limit)
            """
        ) { r in
            OutboxInbound(
                id: try r.get(0),
                message: try Self.inboundMessage(r, at: 4),
                attempts: try r.get(1),
                createdAtMs: try r.get(2),
                lastError: try r.get(3)
            )
        }
    }

    public func leaseInbound(ids: [Int64], nowMs: Int64, untilMs: Int64) async throws -> Set<Int64> {
        guard !ids.isEmpty else { return [] }
        return Set(
            try await rows(
                """
                UPDATE inbound_outbox SET next_at = \(untilMs) WHERE id = ANY(\(ids)) AND state = 0 AND next_at <= \(nowMs) RETURNING id
                """
            ) { try $0.get(0, as: Int64.self) }
        )
    }

    public func inboundPushed(ids: [Int64], nowMs: Int64) async throws {
        guard !ids.isEmpty else { return }
        // Kept as pushed (state 2, next_at the time) until the message is purged: the console shows it.
        try await run("UPDATE inbound_outbox SET state = 2, next_at = \(nowMs) WHERE id = ANY(\(ids))")
    }

    public func inboundRetry(_ retries: [ReceiptRetry]) async throws {
        guard !retries.isEmpty else { return }
        try await run(
            """
            UPDATE inbound_outbox o SET attempts = o.attempts + 1, next_at = u.next, last_error = u.err
            FROM unnest(\(retries.map(\.id)), \(retries.map(\.nextAtMs)), \(retries.map(\.error))) AS u(id, next, err)
            WHERE o.id = u.id AND o.state = 0
            """
        )
    }

    public func parkInbound(ids: [Int64], error: String, nowMs: Int64) async throws {
        guard !ids.isEmpty else { return }
        try await run(
            "UPDATE inbound_outbox SET state = 1, attempts = attempts + 1, last_error = \(error) WHERE id = ANY(\(ids))"
        )
    }

    public func retryParkedInbound(account: String?, nowMs: Int64) async throws -> Int {
        try await run(
            """
            UPDATE inbound_outbox SET state = 0, attempts = 0, next_at = \(nowMs), created_at = \(nowMs)
            WHERE state = 1 AND (\(account)::text IS NULL OR account = \(account)) RETURNING 1
            """
        )
    }

    public func inboundOutboxCounts() async throws -> OutboxCounts {
        let row = try await first(
            "SELECT COUNT(*) FILTER (WHERE state = 0), COUNT(*) FILTER (WHERE state = 1) FROM inbound_outbox"
        ) { (try $0.get(0, as: Int.self), try $0.get(1, as: Int.self)) }
        return OutboxCounts(pending: row?.0 ?? 0, parked: row?.1 ?? 0)
    }
}
