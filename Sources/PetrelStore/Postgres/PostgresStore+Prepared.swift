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
        _ s: S.Type,
        on c: PostgresConnection? = nil,
        _ bind: (inout PostgresBindings) throws -> Void,
        _ map: (PostgresRandomAccessRow) throws -> T = { _ in () }
    ) async throws -> [T] {
        try await Self.prepared(s, client: client, on: c, logger: logger, bind, map)
    }

    static func prepared<S: PreparedSQL, T>(
        _ s: S.Type,
        client: PostgresClient,
        on c: PostgresConnection? = nil,
        logger: Logger,
        _ bind: (inout PostgresBindings) throws -> Void,
        _ map: (PostgresRandomAccessRow) throws -> T = { _ in () }
    ) async throws -> [T] {
        var bindings = PostgresBindings()
        try bind(&bindings)
        let statement = Prepared<S>(bindings: bindings)
        do {
            if let c {
                try PostgresStore.open(c)
                return try await collect(try await c.execute(statement, logger: logger), map)
            }
            return try await collect(try await client.execute(statement, logger: logger), map)
        } catch {
            throw PostgresStore.storeError(error)
        }
    }
}

enum AccessKeySQL: PreparedSQL {
    static let sql = "SELECT \(PostgresStore.keyColumns) FROM access_keys WHERE id = $1"
}

/// Due queued messages, highest priority first, taken with a lease in this node's name.
enum ClaimSQL: PreparedSQL {
    static let sql = """
        UPDATE messages SET status = \(MessageStatus.submitting.sql), lease_until = $1, lease_owner = $2
        WHERE id IN (
            SELECT id FROM messages WHERE status = \(MessageStatus.queued.sql) AND not_before <= $3
            ORDER BY priority, not_before LIMIT $4 FOR UPDATE SKIP LOCKED)
        RETURNING \(StoreSQL.messageColumns)
        """
}

/// Messages a carrier accepted: `submitting` → `sent`, with their carrier ids and scheduled receipts.
enum MarkSentSQL: PreparedSQL {
    static let sql = """
        UPDATE messages m SET status = \(MessageStatus.sent.sql), sent_at = u.at, channel = u.ch, carrier_id = u.cid,
            lease_until = NULL,
            lease_owner = NULL, receipt_due = NULLIF(u.rdue, -1), receipt_status = NULLIF(u.rst, -1),
            receipt_code = CASE WHEN u.rdue = -1 THEN NULL ELSE u.rcode END,
            receipt_desc = CASE WHEN u.rdue = -1 THEN NULL ELSE u.rdesc END
        FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::int[], $7::text[], $8::text[])
            AS u(id, at, ch, cid, rdue, rst, rcode, rdesc)
        WHERE m.id = u.id AND m.status = \(MessageStatus.submitting.sql)
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

/// Status changes to one target status ($1), guarded by the states it may be reached from ($6). A final one ($7)
/// stamps the message with this transaction's id (`fx`), for the statistics fold.
enum ApplyStatusSQL: PreparedSQL {
    static let sql = """
        UPDATE messages m SET status = $1, error_code = u.code, error_desc = u.descr, lease_until = NULL,
            lease_owner = NULL, receipt_due = NULL,
            done_at = CASE WHEN $7 THEN u.at ELSE m.done_at END,
            fx = CASE WHEN $7 THEN pg_current_xact_id() ELSE m.fx END,
            sent_at = CASE WHEN $1 = \(MessageStatus.sent.sql) THEN u.at ELSE m.sent_at END
        FROM unnest($2::bigint[], $3::text[], $4::text[], $5::bigint[]) AS u(id, code, descr, at)
        WHERE m.id = u.id AND m.status = ANY($6::int[])
        RETURNING m.id
        """
}
