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
            if !r.retry.isEmpty {
                try await self.run(
                    """
                    UPDATE messages m SET status = 0, lease_until = NULL, lease_owner = NULL, not_before = u.at
                    FROM unnest(\(r.retry.map(\.id)), \(r.retry.map(\.notBeforeMs))) AS u(id, at)
                    WHERE m.id = u.id AND m.status = 1
                    """, on: c)
            }
            // Receipts that overtook their submit_sm_resp (on this node's bind or another's) can be matched now.
            if try await self.first("SELECT EXISTS (SELECT 1 FROM orphan_receipts)", on: c, { try $0.get(0, as: Bool.self) }) == true {
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
            try await prepared(MarkSentSQL.self, on: c, { b in
                b.append(records.map(\.id))
                b.append(records.map(\.sentAtMs))
                b.append(records.map(\.channel))
                b.append(carrierIds)
                b.append(receipts.map { $0?.atMs ?? -1 })
                b.append(receipts.map { Int32($0?.status.rawValue ?? -1) })
                b.append(receipts.map { $0?.errorCode ?? "" })
                b.append(receipts.map { $0?.errorDescription ?? "" })
            }) { try $0.get(0, as: Int64.self) })
        try await insertParts(records.filter { $0.parts.count > 1 && updated.contains($0.id) }, on: c)
    }

    func insertParts(_ records: [SentRecord], on c: PostgresConnection) async throws {
        let parts = records.flatMap { r in r.parts.map { (r, $0) } }
        guard !parts.isEmpty else { return }
        try await run(
            """
            INSERT INTO message_parts (message_id, part, total, channel, carrier_id, status, sent_at)
            SELECT i, p, t, ch, cid, 2, at FROM unnest(\(parts.map(\.0.id)), \(parts.map(\.1.part)), \(parts.map(\.1.total)),
                \(parts.map(\.0.channel)), \(parts.map { CarrierID.normalize($0.1.carrierId) }), \(parts.map(\.0.sentAtMs)))
                AS u(i, p, t, ch, cid, at)
            ON CONFLICT (message_id, part) DO UPDATE SET total = EXCLUDED.total, channel = EXCLUDED.channel,
                carrier_id = EXCLUDED.carrier_id, status = 2, error_code = '', sent_at = EXCLUDED.sent_at, done_at = NULL
            """, on: c)
    }

    func insertInbox(_ entries: [SandboxEntry], on c: PostgresConnection) async throws {
        guard !entries.isEmpty else { return }
        try await run(
            """
            INSERT INTO sandbox_inbox (message_id, account, recipient, sender, body, segments, received_at, outcome)
            SELECT * FROM unnest(\(entries.map(\.messageId)), \(entries.map(\.account)), \(entries.map(\.to)), \(entries.map(\.from)),
                \(entries.map(\.text)), \(entries.map(\.segments)), \(entries.map(\.receivedAtMs)), \(entries.map(\.outcome)))
            """, on: c)
    }

    public func acceptedParts(messageIds: [Int64]) async throws -> [Int64: Set<Int>] {
        guard !messageIds.isEmpty else { return [:] }
        var result: [Int64: Set<Int>] = [:]
        for (id, part) in try await rows(
            "SELECT message_id, part FROM message_parts WHERE message_id = ANY(\(messageIds))", { (try $0.get(0, as: Int64.self), try $0.get(1, as: Int.self)) }) {
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
            var results = ReceiptResults()
            // Most receipts name a single-part message exactly: those are found with one query and applied with
            // one UPDATE per outcome. The rest (parts, other readings, orphans) go one by one.
            let (finished, rest) = try await self.applySinglePart(receipts, on: c)
            results.finished = finished.applied
            results.matched = finished.found
            for r in rest {
                // An exact match first (a part: no message holds this id): a learned reading is a rule of thumb
                // (see SQLiteStore.applyReceipts).
                var outcome = try await self.matchPart(r, storedID: CarrierID.normalize(r.carrierId), on: c)
                if case .none = outcome, r.reading != .same, let stored = r.reading.storedID(r.carrierId) {
                    outcome = try await self.match(r, storedID: stored, on: c)
                }
                switch outcome {
                case .finished(let update):
                    results.matched += 1
                    results.finished.append(update)
                case .matched:
                    results.matched += 1
                case .none:
                    try await self.run(
                        """
                        INSERT INTO orphan_receipts (channel, carrier_id, status, error_code, received_at)
                        VALUES (\(r.channel), \(CarrierID.normalize(r.carrierId)), \(r.status.rawValue), \(r.errorCode), \(r.atMs))
                        """, on: c)
                    results.orphaned += 1
                }
            }
            return results
        }
    }

    /// Receipts that name a single-part message by its exact carrier id, applied together; returns the status
    /// changes, how many receipts found their message, and the receipts that did not.
    func applySinglePart(
        _ receipts: [CarrierReceipt], on c: PostgresConnection
    ) async throws -> (applied: (applied: [StatusUpdate], found: Int), rest: [CarrierReceipt]) {
        let ids = receipts.map { CarrierID.normalize($0.carrierId) }
        let found = try await prepared(FindByCarrierSQL.self, on: c, {
            $0.append(receipts.map(\.channel))
            $0.append(ids)
        }) { (Int(try $0.get(0, as: Int64.self)) - 1, try $0.get(1, as: Int64.self), try $0.get(2, as: Int.self)) }
        var matched = Set<Int>()
        var updates: [StatusUpdate] = []
        // Rows come in message order (the order locks are taken in); changes go in receipt order, so two receipts
        // for one message apply as they arrived, and a reused carrier id names its oldest message, as `match` does.
        for (i, id, raw) in found.sorted(by: { ($0.0, $0.1) < ($1.0, $1.1) }) where !matched.contains(i) {
            matched.insert(i)
            if let status = MessageStatus(rawValue: raw), let change = ReceiptRules.change(receipts[i], messageId: id, from: status) {
                updates.append(change)
            }
        }
        let applied = try await apply(updates, on: c)
        let rest = receipts.indices.filter { !matched.contains($0) }.map { receipts[$0] }
        return ((applied, matched.count), rest)
    }

    /// Applies a receipt to the single-part message or the part stored under `storedID`.
    func match(_ r: CarrierReceipt, storedID: String, on c: PostgresConnection) async throws -> SQLiteStore.Match {
        guard let (id, raw) = try await first(
            "SELECT id, status FROM messages WHERE channel = \(r.channel) AND carrier_id = \(storedID) AND carrier_id <> '' ORDER BY id LIMIT 1 FOR UPDATE",
            on: c, { (try $0.get(0, as: Int64.self), try $0.get(1, as: Int.self)) })
        else { return try await matchPart(r, storedID: storedID, on: c) }
        guard let status = MessageStatus(rawValue: raw), let change = ReceiptRules.change(r, messageId: id, from: status),
            let applied = try await apply([change], on: c).first
        else { return .matched }
        return .finished(applied)
    }

    /// Applies a receipt to the part stored under `storedID`.
    func matchPart(_ r: CarrierReceipt, storedID: String, on c: PostgresConnection) async throws -> SQLiteStore.Match {
        guard let (messageId, part, total) = try await first(
            """
            SELECT message_id, part, total FROM message_parts WHERE channel = \(r.channel) AND carrier_id = \(storedID)
            ORDER BY sent_at DESC LIMIT 1
            """, on: c, { (try $0.get(0, as: Int64.self), try $0.get(1, as: Int.self), try $0.get(2, as: Int.self)) })
        else { return .none }
        let changed = try await run(
            """
            UPDATE message_parts SET status = \(r.status.rawValue), error_code = \(r.errorCode), done_at = \(r.atMs)
            WHERE message_id = \(messageId) AND part = \(part) AND status = 2 RETURNING 1
            """, on: c)
        guard changed > 0 else { return .matched }     // a duplicate receipt
        let states: [(MessageStatus, String)] = total == 1
            ? [(r.status, r.errorCode)]
            : try await rows("SELECT status, error_code FROM message_parts WHERE message_id = \(messageId)", on: c) {
                (MessageStatus(rawValue: try $0.get(0)) ?? .sent, try $0.get(1, as: String.self))
            }
        guard let decided = ReceiptRules.decide(messageId: messageId, parts: states, total: total, atMs: r.atMs),
            let applied = try await apply([decided], on: c).first
        else { return .matched }
        return .finished(applied)
    }

    public func resolveOrphans(beforeMs: Int64) async throws -> ReceiptResults {
        try await transaction { c in
            var results = ReceiptResults()
            let orphans = try await self.rows(
                """
                SELECT seq, channel, carrier_id, status, error_code, received_at FROM orphan_receipts
                WHERE received_at < \(beforeMs) LIMIT 10000 FOR UPDATE SKIP LOCKED
                """, on: c
            ) { r in
                (seq: try r.get(0, as: Int64.self), channel: try r.get(1, as: String.self), id: try r.get(2, as: String.self),
                 status: try r.get(3, as: Int.self), code: try r.get(4, as: String.self), at: try r.get(5, as: Int64.self))
            }
            var examined: [String: Int] = [:]
            var hits: [String: [CarrierID.Reading: [Int]]] = [:]
            for (i, o) in orphans.enumerated() {
                // The same reading first: a receipt stored on one node and the record of its submit on another
                // can cross (neither transaction sees the other's row), leaving an orphan that now matches.
                let exact = CarrierReceipt(
                    channel: o.channel, carrierId: o.id, status: MessageStatus(rawValue: o.status) ?? .failed, errorCode: o.code, atMs: o.at)
                switch try await self.match(exact, storedID: o.id, on: c) {
                case .none: break
                case .finished(let done):
                    results.finished.append(done)
                    fallthrough
                case .matched:
                    try await self.run("DELETE FROM orphan_receipts WHERE seq = \(o.seq)", on: c)
                    results.matched += 1
                    continue
                }
                examined[o.channel, default: 0] += 1
                for reading in CarrierID.Reading.allCases where reading != .same {
                    guard let stored = reading.storedID(o.id) else { continue }
                    let known = try await self.first(
                        """
                        SELECT EXISTS (SELECT 1 FROM messages WHERE channel = \(o.channel) AND carrier_id = \(stored) AND carrier_id <> '')
                            OR EXISTS (SELECT 1 FROM message_parts WHERE channel = \(o.channel) AND carrier_id = \(stored))
                        """, on: c, { try $0.get(0, as: Bool.self) }) ?? false
                    if known { hits[o.channel, default: [:]][reading, default: []].append(i) }
                }
            }
            for (channel, reading, indexes) in ReceiptRules.trustedReadings(examined: examined, hits: hits) {
                for i in indexes {
                    let o = orphans[i]
                    guard let stored = reading.storedID(o.id) else { continue }
                    let receipt = CarrierReceipt(
                        channel: channel, carrierId: o.id, status: MessageStatus(rawValue: o.status) ?? .failed, errorCode: o.code, atMs: o.at)
                    if case .finished(let done) = try await self.match(receipt, storedID: stored, on: c) { results.finished.append(done) }
                    try await self.run("DELETE FROM orphan_receipts WHERE seq = \(o.seq)", on: c)
                    results.matched += 1
                }
                results.readings[channel] = [reading: indexes.count]
            }
            return results
        }
    }

    /// Applies orphaned receipts that name one of these just-recorded parts (under the same reading only).
    func adoptOrphans(for records: [SentRecord], on c: PostgresConnection) async throws -> [StatusUpdate] {
        let keys = records.flatMap { r in r.parts.map { (r.channel, CarrierID.normalize($0.carrierId), $0.carrierId) } }
        guard !keys.isEmpty else { return [] }
        let found = try await rows(
            """
            SELECT o.seq, o.channel, o.carrier_id, o.status, o.error_code, o.received_at FROM orphan_receipts o
            JOIN unnest(\(keys.map(\.0)), \(keys.map(\.1))) AS k(ch, cid) ON o.channel = k.ch AND o.carrier_id = k.cid
            FOR UPDATE OF o SKIP LOCKED
            """, on: c
        ) { r in
            (seq: try r.get(0, as: Int64.self), channel: try r.get(1, as: String.self), id: try r.get(2, as: String.self),
             status: try r.get(3, as: Int.self), code: try r.get(4, as: String.self), at: try r.get(5, as: Int64.self))
        }
        var applied: [StatusUpdate] = []
        for o in found {
            let receipt = CarrierReceipt(
                channel: o.channel, carrierId: o.id, status: MessageStatus(rawValue: o.status) ?? .failed, errorCode: o.code, atMs: o.at)
            if case .finished(let done) = try await match(receipt, storedID: o.id, on: c) { applied.append(done) }
            try await run("DELETE FROM orphan_receipts WHERE seq = \(o.seq)", on: c)
        }
        return applied
    }
}
