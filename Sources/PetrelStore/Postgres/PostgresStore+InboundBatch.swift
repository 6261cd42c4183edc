import Foundation
import NIOCore
import PetrelCore
import PostgresNIO

/// `storeInbound`'s statements for a whole batch at once: a round trip per statement, not four per part (a
/// thousand parts took three seconds one by one; see docs/benchmarks.md).
extension PostgresStore {
    /// The parts that are not duplicates, in order: of a part stored within the duplicate window (or earlier in
    /// `parts`), or of a place its group already holds.
    func newInboundParts(
        _ c: PostgresConnection,
        _ parts: [InboundPart],
        rules: InboundRules
    ) async throws
        -> (new: [InboundPart], duplicates: Int)
    {
        let since = (parts.map(\.receivedAtMs).min() ?? 0) - rules.duplicateWindowMs
        var lastSeen: [Int64: Int64] = [:]
        for (fingerprint, at) in try await rows(
            """
            SELECT fingerprint, MAX(received_at) FROM inbound_parts
            WHERE fingerprint = ANY(\(parts.map(\.fingerprint))) AND received_at >= \(since) GROUP BY fingerprint
            """,
            on: c,
            { (try $0.get(0, as: Int64.self), try $0.get(1, as: Int64.self)) }
        ) {
            lastSeen[fingerprint] = at
        }
        let groups = Array(Set(parts.filter { $0.concat != nil }.map(\.groupKey)))
        var taken = Set<String>()
        if !groups.isEmpty {
            for (key, seq) in try await rows(
                "SELECT group_key, seq FROM inbound_parts WHERE NOT done AND group_key = ANY(\(groups))",
                on: c,
                { (try $0.get(0, as: String.self), try $0.get(1, as: Int.self)) }
            ) {
                taken.insert("\(seq)|\(key)")
            }
        }
        var new: [InboundPart] = []
        var duplicates = 0
        for p in parts {
            let fingerprint = p.fingerprint
            if let at = lastSeen[fingerprint], at >= p.receivedAtMs - rules.duplicateWindowMs {
                duplicates += 1
                continue
            }
            // The same place again with other bytes: only the first is read (`assemble`), so it is a duplicate.
            if let concat = p.concat, !taken.insert("\(concat.seq)|\(p.groupKey)").inserted {
                duplicates += 1
                continue
            }
            lastSeen[fingerprint] = max(lastSeen[fingerprint] ?? .min, p.receivedAtMs)
            new.append(p)
        }
        return (new, duplicates)
    }

    func insertInboundParts(_ c: PostgresConnection, _ parts: [InboundPart]) async throws {
        guard !parts.isEmpty else { return }
        try await run(
            """
            INSERT INTO inbound_parts (fingerprint, group_key, seq, total, channel, sender, dest, data_coding, body,
                account, received_at, done)
            SELECT f, g, s, t, ch, se, de, dc, b, NULLIF(a, ''), r, d
            FROM unnest(\(parts.map(\.fingerprint)), \(parts.map(\.groupKey)), \(parts.map { $0.concat?.seq ?? 1 }),
                \(parts.map { $0.concat?.total ?? 1 }), \(parts.map(\.channel)), \(parts.map(\.from)),
                \(parts.map(\.to)), \(parts.map { Int($0.dataCoding) }), \(parts.map { ByteBuffer(bytes: $0.body) }),
                \(parts.map { $0.account ?? "" }), \(parts.map(\.receivedAtMs)), \(parts.map { $0.concat == nil }))
                AS u(f, g, s, t, ch, se, de, dc, b, a, r, d)
            """,
            on: c
        )
    }

    /// Whole messages (one part each), made together: their owners in one query, their rows in two.
    func makeWholeInbound(
        _ c: PostgresConnection,
        _ parts: [InboundPart],
        rules: InboundRules,
        nowMs: Int64,
        into out: inout InboundStored
    ) async throws {
        guard !parts.isEmpty else { return }
        // Per phone (and the part's account when it has one), the message last sent to it: its account owns the
        // reply, its SmsUpExtendCode is the reply's dest_code. One index lookup per pair.
        struct Pair: Hashable {
            var phone: String
            var account: String
        }
        var replied: [Pair: (account: String, extendCode: String)] = [:]
        let pairs = Array(Set(parts.map { Pair(phone: $0.from, account: $0.account ?? "") }))
        for (phone, asked, account, code) in try await rows(
            """
            SELECT x.p, x.a, m.account, m.ext_code
            FROM unnest(\(pairs.map(\.phone))::text[], \(pairs.map(\.account))::text[]) AS x(p, a)
            CROSS JOIN LATERAL (
                SELECT account, ext_code FROM messages
                WHERE recipient = x.p AND sent_at IS NOT NULL AND sent_at >= \(nowMs - rules.replyWindowMs)
                    AND (x.a = '' OR account = x.a)
                ORDER BY sent_at DESC LIMIT 1
            ) m
            """,
            on: c,
            {
                (
                    try $0.get(0, as: String.self), try $0.get(1, as: String.self), try $0.get(2, as: String.self),
                    try $0.get(3, as: String.self)
                )
            }
        ) {
            replied[Pair(phone: phone, account: asked)] = (account, code)
        }
        let found = parts.map { replied[Pair(phone: $0.from, account: $0.account ?? "")] }
        let ids = try await rows(
            "SELECT nextval(pg_get_serial_sequence('inbound', 'id')) FROM generate_series(1, \(parts.count))",
            on: c,
            { try $0.get(0, as: Int64.self) }
        )
        let owners = zip(parts, found).map { p, r in p.account ?? r?.account ?? rules.defaultAccount }
        let texts = parts.map { InboundText.assemble([$0]) }
        try await run(
            """
            WITH i AS (
                INSERT INTO inbound (id, account, sender, dest, text, encoding, parts, incomplete, channel, received_at,
                    dest_code)
                SELECT id, a, se, de, t, e, 1, ic, ch, r, dc
                FROM unnest(\(ids), \(owners), \(parts.map(\.from)), \(parts.map(\.to)), \(texts.map(\.text)),
                    \(texts.map(\.encoding)), \(texts.map(\.incomplete)), \(parts.map(\.channel)),
                    \(parts.map(\.receivedAtMs)), \(found.map { $0?.extendCode ?? "" })) AS u(id, a, se, de, t, e, ic, ch, r, dc)
                RETURNING id, account
            )
            INSERT INTO inbound_outbox (account, inbound_id, created_at, next_at)
            SELECT i.account, i.id, \(nowMs), \(nowMs) FROM i
            WHERE EXISTS (SELECT 1 FROM accounts WHERE name = i.account AND mo_url <> '')
            """,
            on: c
        )
        for (p, (owner, text)) in zip(parts, zip(owners, texts)) where !text.incomplete {
            try await optOutByKeyword(
                c,
                account: owner,
                from: p.from,
                to: p.to,
                text: text.text,
                rules: rules,
                nowMs: nowMs,
                into: &out
            )
        }
    }
}
