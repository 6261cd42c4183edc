import PetrelCore
import PostgresNIO

extension PostgresStore {
    public func record(_ r: DispatchResults) async throws -> [StatusUpdate] {
        guard !r.isEmpty else { return [] }
        return try await transaction { c in
            try await self.markSent(r.sent, on: c)
            try await self.insertInbox(r.inbox, on: c)
            try await self.insertParts(r.acceptedParts, on: c)
            var applied = try await self.apply(r.failed, on: c)
            try await self.requeue(r.retry, on: c)
            // Receipts that overtook their submit_sm_resp (on this node's bind or another's) can be matched now.
            if try await self.first(
                "SELECT EXISTS (SELECT 1 FROM orphan_receipts)",
                on: c,
                { try $0.get(0, as: Bool.self) }
            ) == true {
                applied += try await self.adoptOrphans(for: r.sent + r.acceptedParts, on: c)
            }
            return applied
        }
    }

    func markSent(_ records: [SentRecord], on c: PostgresConnection) async throws {
        guard !records.isEmpty else { return }
        // One part: the id goes on the message row (indexed for receipts). Several: each part has its row.
        let carrierIds = records.map { r in
            r.parts.count == 1 ? CarrierID.normalize(r.parts[0].carrierId) : r.parts.isEmpty ? r.carrierMessageId : ""
        }
        let receipts = records.map(\.scheduledReceipt)
        let updated = Set(
            try await prepared(
                MarkSentSQL.self,
                on: c,
                { b in
                    b.append(records.map(\.id))
                    b.append(records.map(\.sentAtMs))
                    b.append(records.map(\.channel))
                    b.append(carrierIds)
                    b.append(receipts.map { $0?.atMs ?? -1 })
                    b.append(receipts.map { Int32($0?.status.rawValue ?? -1) })
                    b.append(receipts.map { $0?.errorCode ?? "" })
                    b.append(receipts.map { $0?.errorDescription ?? "" })
                }
            ) { try $0.get(0, as: Int64.self) }
        )
        try await insertParts(records.filter { $0.parts.count > 1 && updated.contains($0.id) }, on: c)
    }

    func insertParts(_ records: [SentRecord], on c: PostgresConnection) async throws {
        let parts = records.flatMap { r in r.parts.map { (r, $0) } }
        guard !parts.isEmpty else { return }
        try await run(
            """
            INSERT INTO message_parts (message_id, part, total, channel, carrier_id, status, sent_at)
            SELECT i, p, t, ch, cid, \(unescaped: MessageStatus.sent.sql), at
            FROM unnest(\(parts.map(\.0.id)), \(parts.map(\.1.part)), \(parts.map(\.1.total)),
                \(parts.map(\.0.channel)), \(parts.map { CarrierID.normalize($0.1.carrierId) }), \(parts.map(\.0.sentAtMs)))
                AS u(i, p, t, ch, cid, at)
            ON CONFLICT (message_id, part) DO UPDATE SET total = EXCLUDED.total, channel = EXCLUDED.channel,
                carrier_id = EXCLUDED.carrier_id, status = \(unescaped: MessageStatus.sent.sql), error_code = '',
                sent_at = EXCLUDED.sent_at, done_at = NULL
            """,
            on: c
        )
    }

    func insertInbox(_ entries: [SandboxEntry], on c: PostgresConnection) async throws {
        guard !entries.isEmpty else { return }
        try await run(
            """
            INSERT INTO sandbox_inbox (message_id, account, recipient, sender, body, segments, received_at, outcome)
            SELECT * FROM unnest(\(entries.map(\.messageId)), \(entries.map(\.account)), \(entries.map(\.to)), \(entries.map(\.from)),
                \(entries.map(\.text)), \(entries.map(\.segments)), \(entries.map(\.receivedAtMs)), \(entries.map(\.outcome)))
            """,
            on: c
        )
    }

    public func acceptedParts(messageIds: [Int64]) async throws -> [Int64: Set<Int>] {
        guard !messageIds.isEmpty else { return [:] }
        var result: [Int64: Set<Int>] = [:]
        for (id, part) in try await rows(
            "SELECT message_id, part FROM message_parts WHERE message_id = ANY(\(messageIds))",
            { (try $0.get(0, as: Int64.self), try $0.get(1, as: Int.self)) }
        ) {
            result[id, default: []].insert(part)
        }
        return result
    }

    public func dropOrphanReceipts(beforeMs: Int64) async throws -> Int {
        try await run("DELETE FROM orphan_receipts WHERE received_at < \(beforeMs) RETURNING 1")
    }

    public func applyReceipts(_ receipts: [CarrierReceipt]) async throws -> ReceiptResults {
        guard !receipts.isEmpty else { return ReceiptResults() }
        return try await transaction { c in
            // Most receipts name a single-part message exactly: those are found with one query and applied with
            // one UPDATE per outcome. The rest (parts, other readings, orphans) go through the matcher one by one.
            let rows = try await self.prepared(
                FindByCarrierSQL.self,
                on: c,
                {
                    $0.append(receipts.map(\.channel))
                    $0.append(receipts.map { CarrierID.normalize($0.carrierId) })
                }
            ) {
                (
                    index: Int(try $0.get(0, as: Int64.self)) - 1, id: try $0.get(1, as: Int64.self),
                    status: MessageStatus(rawValue: try $0.get(2, as: Int.self))
                )
            }
            // Rows come in message order (the order locks are taken in); changes go in receipt order, so two
            // receipts for one message apply as they arrived.
            let (changes, found) = ReceiptMatcher.singlePart(receipts, rows: rows)
            let finished = try await self.apply(changes, on: c)
            var matcher = ReceiptMatcher.receipts(receipts.indices.filter { !found[$0] }.map { receipts[$0] })
            var results = try await matcher.run(PostgresReceiptLookups(store: self, connection: c))
            results.matched += found.count(where: { $0 })
            results.finished = finished + results.finished
            return results
        }
    }

    public func resolveOrphans(beforeMs: Int64) async throws -> ReceiptResults {
        try await transaction { c in
            let orphans = try await self.rows(
                """
                SELECT seq, channel, carrier_id, status, error_code, received_at FROM orphan_receipts
                WHERE received_at < \(beforeMs) LIMIT 10000 FOR UPDATE SKIP LOCKED
                """,
                on: c,
                Self.orphan
            )
            var matcher = ReceiptMatcher.resolve(orphans)
            return try await matcher.run(PostgresReceiptLookups(store: self, connection: c))
        }
    }

    /// Applies orphaned receipts that name one of these just-recorded parts (under the same reading only).
    func adoptOrphans(for records: [SentRecord], on c: PostgresConnection) async throws -> [StatusUpdate] {
        let keys = records.flatMap { r in r.parts.map { (r.channel, CarrierID.normalize($0.carrierId)) } }
        guard !keys.isEmpty else { return [] }
        let orphans = try await rows(
            """
            SELECT o.seq, o.channel, o.carrier_id, o.status, o.error_code, o.received_at FROM orphan_receipts o
            JOIN unnest(\(keys.map(\.0)), \(keys.map(\.1))) AS k(ch, cid) ON o.channel = k.ch AND o.carrier_id = k.cid
            FOR UPDATE OF o SKIP LOCKED
            """,
            on: c,
            Self.orphan
        )
        guard !orphans.isEmpty else { return [] }
        var matcher = ReceiptMatcher.adopt(orphans)
        return try await matcher.run(PostgresReceiptLookups(store: self, connection: c)).finished
    }

    /// An orphan_receipts row: seq, channel, carrier_id, status, error_code, received_at.
    static func orphan(_ r: PostgresRandomAccessRow) throws -> ReceiptMatcher.Orphan {
        ReceiptMatcher.Orphan(
            key: try r.get(0),
            receipt: CarrierReceipt(
                channel: try r.get(1),
                carrierId: try r.get(2),
                status: MessageStatus(rawValue: try r.get(3)) ?? .failed,
                errorCode: try r.get(4),
                atMs: try r.get(5)
            )
        )
    }
}

/// The matcher's questions in SQL, on the caller's transaction.
struct PostgresReceiptLookups: AsyncReceiptLookups {
    let store: PostgresStore
    let connection: PostgresConnection

    func message(channel: String, storedID: String) async throws -> (id: Int64, status: MessageStatus?)? {
        try await store.first(
            """
            SELECT id, status FROM messages WHERE channel = \(channel) AND carrier_id = \(storedID) AND carrier_id <> ''
            ORDER BY id LIMIT 1 FOR UPDATE
            """,
            on: connection
        ) { (try $0.get(0, as: Int64.self), MessageStatus(rawValue: try $0.get(1, as: Int.self))) }
    }

    func part(channel: String, storedID: String) async throws -> ReceiptMatcher.StoredPart? {
        try await store.first(
            """
            SELECT message_id, part, total FROM message_parts WHERE channel = \(channel) AND carrier_id = \(storedID)
            ORDER BY sent_at DESC LIMIT 1
            """,
            on: connection
        ) { ReceiptMatcher.StoredPart(messageId: try $0.get(0), part: try $0.get(1), total: try $0.get(2)) }
    }

    func markPart(_ part: ReceiptMatcher.StoredPart, _ r: CarrierReceipt) async throws -> Bool {
        try await store.run(
            """
            UPDATE message_parts SET status = \(r.status.rawValue), error_code = \(r.errorCode), done_at = \(r.atMs)
            WHERE message_id = \(part.messageId) AND part = \(part.part) AND status = \(MessageStatus.sent.rawValue)
            RETURNING 1
            """,
            on: connection
        ) > 0
    }

    func partStates(messageId: Int64) async throws -> [(MessageStatus, String)] {
        try await store.rows(
            "SELECT status, error_code FROM message_parts WHERE message_id = \(messageId)",
            on: connection
        ) {
            (MessageStatus(rawValue: try $0.get(0)) ?? .sent, try $0.get(1, as: String.self))
        }
    }

    func apply(_ update: StatusUpdate) async throws -> StatusUpdate? {
        try await store.apply([update], on: connection).first
    }

    func isKnown(channel: String, storedID: String) async throws -> Bool {
        try await store.first(
            """
            SELECT EXISTS (
                    SELECT 1 FROM messages WHERE channel = \(channel) AND carrier_id = \(storedID) AND carrier_id <> '')
                OR EXISTS (SELECT 1 FROM message_parts WHERE channel = \(channel) AND carrier_id = \(storedID))
            """,
            on: connection,
            { try $0.get(0, as: Bool.self) }
        ) ?? false
    }

    func keepOrphan(_ r: CarrierReceipt) async throws {
        try await store.run(
            """
            INSERT INTO orphan_receipts (channel, carrier_id, status, error_code, received_at)
            VALUES (\(r.channel), \(r.carrierId), \(r.status.rawValue), \(r.errorCode), \(r.atMs))
            """,
            on: connection
        )
    }

    func dropOrphan(key: Int64) async throws {
        try await store.run("DELETE FROM orphan_receipts WHERE seq = \(key)", on: connection)
    }
}
