import NIOCore
import PetrelCore
import PostgresNIO

/// A limited group of one account decided in this node's memory, written in one statement (and one WAL flush).
/// The nonces first: a statement that waits on another transaction's uncommitted nonce (a replay in flight on
/// another node) holds no head meanwhile; taking the head first let two nodes wait on each other until
/// PostgreSQL's deadlock detector aborted one. Then the account's head moves from the `seq` and token memory is at
/// ($39 the new token, $40 memory's), and with it: the kept messages (those a limit refused never are), one
/// `send_log` row, the cap parts and the guard's sends. A nonce used before, or a head another transaction moved,
/// aborts the whole statement (`petrel_fail`), so nothing of the group stays: a replay is refused, and a group
/// whose head moved goes the slow way. $1-$25 are `InsertGroupSQL`'s.
enum LimitedGroupSQL: PreparedSQL {
    /// petrel_fail's message when the head moved: the statement is aborted (its nonces with it) and the group goes
    /// the slow way.
    static let headMoved = "the limit head moved"

    static let sql = """
        WITH n AS (
            INSERT INTO nonces (hash, expires_at) SELECT h, e FROM unnest($1::bigint[], $2::bigint[]) AS x(h, e)
            ON CONFLICT (hash) DO NOTHING RETURNING hash
        ), h AS (
            UPDATE limit_heads SET seq = seq + 1, token = $39 WHERE account = $26 AND seq = $27 AND token = $40
                AND (SELECT count(*) FROM n) = cardinality($1::bigint[])
            RETURNING seq
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
        SELECT CASE
            WHEN (SELECT count(*) FROM n) < cardinality($1::bigint[]) THEN petrel_fail('a nonce was used before')
            WHEN NOT EXISTS (SELECT 1 FROM h) THEN petrel_fail('\(headMoved)')
            ELSE (SELECT seq FROM h) END
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
