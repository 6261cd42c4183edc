import PetrelCore
import PostgresNIO

extension PostgresStore {
    public func history(messageId: Int64, account: String) async throws -> MessageTimeline? {
        guard let m = try await message(id: messageId, account: account) else { return nil }
        let parts = try await parts(messageId: messageId)
        let events = try await rows(
            """
            SELECT kind, status, at, until, detail FROM message_events WHERE message_id = \(messageId) ORDER BY at, seq
            """
        ) { r -> HistoryEvent? in
            guard let kind = HistoryEventKind(rawValue: try r.get(0, as: Int.self)) else { return nil }
            return HistoryEvent(
                kind: kind,
                status: MessageStatus(rawValue: try r.get(1, as: Int.self)) ?? .queued,
                atMs: try r.get(2),
                untilMs: try r.get(3, as: Int64?.self),
                detail: try r.get(4)
            )
        }.compactMap { $0 }
        let receipts = try await rows(
            """
            SELECT created_at, next_at, attempts, state, last_error FROM receipt_outbox
            WHERE message_id = \(messageId) ORDER BY id
            """
        ) { r in
            PendingReceipt(
                createdAtMs: try r.get(0),
                nextAtMs: try r.get(1),
                attempts: try r.get(2, as: Int.self),
                parked: try r.get(3, as: Int.self) == 1,
                lastError: try r.get(4)
            )
        }
        return MessageTimeline.build(message: m, parts: parts, events: events, receipts: receipts)
    }
}
