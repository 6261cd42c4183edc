import NIOCore
import PetrelCore
import PostgresNIO

/// A limited group of one account decided in this node's memory, written in one statement (and one WAL flush): the
/// account's head moves from the `seq` and token memory is at ($39 the new token, $40 memory's), or nothing is written and no row comes back (another
/// transaction moved it: the group goes the slow way). With the head moved: the nonces, the kept messages (those a
/// limit refused never are), one `send_log` row, the cap parts and the guard's sends. A nonce used before aborts the
/// whole statement (`petrel_fail`), so a replay never leaves its group half written. $1-$25 are `InsertGroupSQL`'s.
enum LimitedGroupSQL: PreparedSQL {
    static let sql = """
        WITH h AS (
            UPDATE limit_heads SET seq = seq + 1, token = $39 WHERE account = $26 AND seq = $27 AND token = $40
            RETURNING seq
        ), n AS (
            INSERT INTO nonces (hash, expires_at) SELECT h, e FROM unnest($1::bigint[], $2::bigint[]) AS x(h, e)
            WHERE EXISTS (SELECT 1 FROM h)
            ON CONFLICT (hash) DO NOTHING RETURNING hash
        ), m AS (
            \(InsertGroupSQL.insertMessages)
            WHERE EXISTS (SELECT 1 FROM h)
        ), l AS (
            INSERT INTO send_log (account, seq, at, sends) SELECT $26, seq, $28, $29 FROM h WHERE length($29) > 0
        ), k AS (
            INSERT INTO cap_counts (account, country, span, start, ends, parts)
            SELECT $26, c, s, t, e, p FROM unnest($30::text[], $31::text[], $32::bigint[], $33::bigint[], $34::bigint[])
                AS x(c, s, t, e, p)
            WHERE EXISTS (SELECT 1 FROM h)
            ON CONFLICT (account, country, span, start) DO UPDATE SET parts = cap_counts.parts + excluded.parts
        ), g AS (
            INSERT INTO pumping_counts (type, start, account, country, sent)
            SELECT t, s, $26, c, n FROM unnest($35::text[], $36::bigint[], $37::text[], $38::bigint[]) AS x(t, s, c, n)
            WHERE EXISTS (SELECT 1 FROM h)
            ON CONFLICT (type, start, account, country) DO UPDATE SET sent = pumping_counts.sent + excluded.sent
        )
        SELECT CASE WHEN (SELECT count(*) FROM n) < cardinality($1::bigint[]) THEN petrel_fail('a nonce was used before')
            ELSE seq END FROM h
        """

    static func bind(
        _ b: inout PostgresBindings,
        account: String,
        head: Int64,
        _ kept: [WriteBatch],
        _ entry: (at: Int64, bytes: [UInt8])?,
        _ d: PostgresStore.GroupDecision
    ) {
        InsertGroupSQL.bind(&b, kept)
        b.append(account)
        b.append(head)
        b.append(entry?.at ?? 0)
        b.append(ByteBuffer(bytes: entry?.bytes ?? []))
        let caps = Array(d.parts[account] ?? [:])
        b.append(caps.map(\.key.country))
        b.append(caps.map(\.key.window.rawValue))
        b.append(caps.map(\.key.start))
        b.append(caps.map(\.value.end))
        b.append(caps.map { Int64($0.value.parts) })
        let sends = Array(d.guarded[account] ?? [:])
        b.append(sends.map(\.key.type.rawValue))
        b.append(sends.map(\.key.start))
        b.append(sends.map(\.key.country))
        b.append(sends.map { Int64($0.value) })
    }
}
