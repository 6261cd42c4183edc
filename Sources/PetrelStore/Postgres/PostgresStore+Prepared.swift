import Logging
import PetrelCore
import PostgresNIO

/// The statements of the hot paths, prepared once per connection: PostgreSQL parses and plans them once instead of
/// on every request (planning a 17-array INSERT cost more than running it). Their SQL is written once, here.
protocol PreparedSQL {
    static var sql: String { get }
}

struct Prepared<S: PreparedSQL>: PostgresPreparedStatement {
    typealias Row = PostgresRow
    static var sql: String { S.sql }
    static var name: String { "petrel_" + String(describing: S.self) }
    let bindings: PostgresBindings
    func makeBindings() throws -> PostgresBindings { bindings }
    func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }
}

extension PostgresStore {
    /// Runs the prepared statement `S` with the values `bind` appends (in the order of its `$n`), mapping each row.
    func prepared<S: PreparedSQL, T>(
        _ s: S.Type, on c: PostgresConnection? = nil, _ bind: (inout PostgresBindings) throws -> Void,
        _ map: (PostgresRandomAccessRow) throws -> T = { _ in () }
    ) async throws -> [T] {
        try await Self.prepared(s, client: client, on: c, logger: logger, bind, map)
    }

    static func prepared<S: PreparedSQL, T>(
        _ s: S.Type, client: PostgresClient, on c: PostgresConnection? = nil, logger: Logger,
        _ bind: (inout PostgresBindings) throws -> Void, _ map: (PostgresRandomAccessRow) throws -> T = { _ in () }
    ) async throws -> [T] {
        var bindings = PostgresBindings()
        try bind(&bindings)
        let statement = Prepared<S>(bindings: bindings)
        do {
            let sequence = if let c { try await c.execute(statement, logger: logger) } else { try await client.execute(statement, logger: logger) }
            var out: [T] = []
            for try await row in sequence { out.append(try map(row.makeRandomAccess())) }
            return out
        } catch {
            throw PostgresStore.storeError(error)
        }
    }
}

/// A request's nonce and messages, one array per column.
enum InsertBatchSQL: PreparedSQL {
    static let sql = """
        WITH n AS (
            INSERT INTO nonces (hash, expires_at) SELECT $1::bigint, $2::bigint WHERE $1::bigint IS NOT NULL
        ), m AS (
            INSERT INTO messages (id, account, recipient, sender, body, type, task_id, requested_channel, priority,
                segments, encoding, status, error_code, error_desc, created_at, not_before, expires_at)
            SELECT i, a, r, s, b, t, k, c, p, g, e, st, ec, ed, ca, nb, NULLIF(ex, -1)
            FROM unnest($3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
                $11::int[], $12::int[], $13::text[], $14::int[], $15::text[], $16::text[], $17::bigint[], $18::bigint[],
                $19::bigint[]) AS x(i, a, r, s, b, t, k, c, p, g, e, st, ec, ed, ca, nb, ex)
        )
        SELECT 1
        """

    static func bind(_ b: inout PostgresBindings, nonce: NonceRecord?, messages m: [Message]) {
        b.append(nonce?.hash)
        b.append(nonce?.expiresAtMs)
        b.append(m.map(\.id))
        b.append(m.map(\.account))
        b.append(m.map(\.to))
        b.append(m.map(\.from))
        b.append(m.map(\.text))
        b.append(m.map(\.type.rawValue))
        b.append(m.map(\.taskId))
        b.append(m.map(\.requestedChannel))
        b.append(m.map { Int32($0.priority.rawValue) })
        b.append(m.map { Int32($0.segments) })
        b.append(m.map(\.encoding.rawValue))
        b.append(m.map { Int32($0.status.rawValue) })
        b.append(m.map(\.errorCode))
        b.append(m.map(\.errorDescription))
        b.append(m.map(\.createdAtMs))
        b.append(m.map(\.notBeforeMs))
        b.append(m.map { $0.expiresAtMs ?? -1 })
    }
}

enum AccessKeySQL: PreparedSQL {
    static let sql = "SELECT id, secret, account, name, enabled, policy, created_at FROM access_keys WHERE id = $1"
}

/// Due queued messages, highest priority first, taken with a lease in this node's name.
enum ClaimSQL: PreparedSQL {
    static let sql = """
        UPDATE messages SET status = 1, lease_until = $1, lease_owner = $2
        WHERE id IN (
            SELECT id FROM messages WHERE status = 0 AND not_before <= $3
            ORDER BY priority, not_before LIMIT $4 FOR UPDATE SKIP LOCKED)
        RETURNING \(SQLiteStore.messageColumns)
        """
}

/// Messages a carrier accepted: `submitting` → `sent`, with their carrier ids and scheduled receipts.
enum MarkSentSQL: PreparedSQL {
    static let sql = """
        UPDATE messages m SET status = 2, sent_at = u.at, channel = u.ch, carrier_id = u.cid, lease_until = NULL,
            lease_owner = NULL, receipt_due = NULLIF(u.rdue, -1), receipt_status = NULLIF(u.rst, -1),
            receipt_code = CASE WHEN u.rdue = -1 THEN NULL ELSE u.rcode END,
            receipt_desc = CASE WHEN u.rdue = -1 THEN NULL ELSE u.rdesc END
        FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::int[], $7::text[], $8::text[])
            AS u(id, at, ch, cid, rdue, rst, rcode, rdesc)
        WHERE m.id = u.id AND m.status = 1
        RETURNING m.id
        """
}

/// Single-part messages named by (channel, carrier id), locked for the receipts about to change them.
enum FindByCarrierSQL: PreparedSQL {
    static let sql = """
        SELECT r.n, m.id, m.status FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS r(ch, cid, n)
        JOIN messages m ON m.channel = r.ch AND m.carrier_id = r.cid AND m.carrier_id <> ''
        ORDER BY m.id FOR UPDATE OF m
        """
}

/// Status changes to one target status ($1), guarded by the states it may be reached from ($6).
enum ApplyStatusSQL: PreparedSQL {
    static let sql = """
        UPDATE messages m SET status = $1, error_code = u.code, error_desc = u.descr, lease_until = NULL,
            lease_owner = NULL, receipt_due = NULL,
            done_at = CASE WHEN $7 THEN u.at ELSE m.done_at END,
            sent_at = CASE WHEN $1 = 2 THEN u.at ELSE m.sent_at END
        FROM unnest($2::bigint[], $3::text[], $4::text[], $5::bigint[]) AS u(id, code, descr, at)
        WHERE m.id = u.id AND m.status = ANY($6::int[])
        RETURNING m.id
        """
}
