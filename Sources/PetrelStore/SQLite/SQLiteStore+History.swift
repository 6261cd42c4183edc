import GRDB
public import PetrelCore

extension SQLiteStore {
    public func history(messageId: Int64, account: String) async throws -> MessageTimeline? {
        try readNow { db in
            guard
                let m = try Row.fetchOne(
                    db,
                    sql: "SELECT \(Self.messageColumns) FROM messages WHERE id = ? AND account = ?",
                    arguments: [messageId, account]
                ).map({ Self.message($0) })
            else { return nil }
            let parts = try Self.parts(messageId: messageId, db)
            let events = try Row.fetchAll(
                db,
                sql:
                    "SELECT kind, status, at, until, detail FROM message_events WHERE message_id = ? ORDER BY at, rowid",
                arguments: [messageId]
            ).compactMap { row -> HistoryEvent? in
                guard let kind = HistoryEventKind(rawValue: row[0]) else { return nil }
                return HistoryEvent(
                    kind: kind,
                    status: MessageStatus(rawValue: row[1]) ?? .queued,
                    atMs: row[2],
                    untilMs: row[3],
                    detail: row[4]
                )
            }
            let receipts = try Row.fetchAll(
                db,
                sql: """
                    SELECT created_at, next_at, attempts, state, last_error FROM receipt_outbox
                    WHERE message_id = ? ORDER BY id
                    """,
                arguments: [messageId]
            ).map {
                PendingReceipt(
                    createdAtMs: $0[0],
                    nextAtMs: $0[1],
                    attempts: $0[2],
                    parked: ($0[3] as Int) == 1,
                    lastError: $0[4]
                )
            }
            return MessageTimeline.build(message: m, parts: parts, events: events, receipts: receipts)
        }
    }
}
