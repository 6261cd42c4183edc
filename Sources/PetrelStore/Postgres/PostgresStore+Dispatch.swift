import Foundation
import PetrelCore
import PostgresNIO

extension PostgresStore {
    public func claim(limit: Int, nowMs: Int64, leaseMs: Int64) async throws -> [Message] {
        // SKIP LOCKED: nodes claiming at the same moment take different messages instead of waiting on each other.
        var claimed = try await prepared(
            ClaimSQL.self,
            {
                $0.append(nowMs + leaseMs)
                $0.append(Int32(nodeNumber))
                $0.append(nowMs)
                $0.append(Int64(limit))
            },
            { try Self.message($0) }
        )
        claimed.sort { ($0.priority, $0.notBeforeMs, $0.id) < ($1.priority, $1.notBeforeMs, $1.id) }
        return claimed
    }

    @discardableResult
    public func apply(_ updates: [StatusUpdate]) async throws -> [StatusUpdate] {
        guard !updates.isEmpty else { return [] }
        return try await transaction { c in try await self.apply(updates, on: c) }
    }

    /// Applies status changes the state machine allows: one UPDATE per target status, guarded by the states that
    /// status may be reached from. (A batch naming one message twice is applied in order, one at a time.)
    func apply(_ updates: [StatusUpdate], on c: PostgresConnection) async throws -> [StatusUpdate] {
        guard !updates.isEmpty else { return [] }
        if Set(updates.map(\.id)).count < updates.count {
            var applied: [StatusUpdate] = []
            for u in updates { applied += try await apply([u], on: c) }
            return applied
        }
        var done = Set<Int64>()
        for status in Set(updates.map(\.status)) {
            let group = updates.filter { $0.status == status }
            let from = MessageStatus.allCases.filter { $0.canMove(to: status) }.map(\.rawValue)
            guard !from.isEmpty else { continue }
            let ids = try await prepared(
                ApplyStatusSQL.self,
                on: c,
                { b in
                    b.append(Int32(status.rawValue))
                    b.append(group.map(\.id))
                    b.append(group.map(\.errorCode))
                    b.append(group.map(\.errorDescription))
                    b.append(group.map(\.atMs))
                    b.append(from.map { Int32($0) })
                    b.append(status.isFinal)
                },
                { try $0.get(0, as: Int64.self) }
            )
            done.formUnion(ids)
        }
        let applied = updates.filter { done.contains($0.id) }
        let events = applied.filter { $0.status == .failed || $0.status == .expired }
        if !events.isEmpty {
            try await run(
                """
                INSERT INTO message_events (message_id, at, status, detail)
                SELECT * FROM unnest(\(events.map(\.id)), \(events.map(\.atMs)), \(events.map(\.status.rawValue)),
                    \(events.map { $0.errorCode.isEmpty ? $0.errorDescription : "\($0.errorCode): \($0.errorDescription)" }))
                """,
                on: c
            )
        }
        return applied
    }

    public func requeue(ids: [Int64], notBeforeMs: Int64) async throws {
        guard !ids.isEmpty else { return }
        try await requeue(ids.map { RetryRecord(id: $0, atMs: 0, notBeforeMs: notBeforeMs, reason: "") })
    }

    /// Messages still being submitted go back to the queue, each due again at its time (the one requeue
    /// statement: dispatch results' retries and `requeue(ids:notBeforeMs:)`). A retry with a reason is recorded in
    /// the message's history: no column holds it.
    func requeue(_ retry: [RetryRecord], on c: PostgresConnection? = nil) async throws {
        guard !retry.isEmpty else { return }
        let kind = String(HistoryEventKind.retried.rawValue)
        let cap = String(HistoryEventKind.maxRowsPerMessage)
        try await run(
            """
            WITH u AS (
                SELECT * FROM unnest(\(retry.map(\.id)), \(retry.map(\.atMs)), \(retry.map(\.notBeforeMs)),
                    \(retry.map(\.reason))) AS u(id, at, nb, reason)
            ), moved AS (
                UPDATE messages m
                SET status = \(unescaped: MessageStatus.queued.sql), lease_until = NULL, lease_owner = NULL, not_before = u.nb
                FROM u WHERE m.id = u.id AND m.status = \(unescaped: MessageStatus.submitting.sql)
                RETURNING m.id
            ), counted AS (
                SELECT u.*, (SELECT COUNT(*) FROM message_events e WHERE e.message_id = u.id AND e.kind = \(unescaped: kind)) AS n
                FROM u JOIN moved ON moved.id = u.id WHERE u.reason <> ''
            ), rewritten AS (
                -- Past the bound, the newest retry row is rewritten instead (see HistoryEventKind.maxRowsPerMessage).
                UPDATE message_events e SET at = c.at, until = c.nb, detail = c.reason
                FROM counted c
                WHERE c.n >= \(unescaped: cap) AND e.seq = (
                    SELECT MAX(seq) FROM message_events WHERE message_id = c.id AND kind = \(unescaped: kind))
            )
            INSERT INTO message_events (message_id, at, status, detail, kind, until)
            SELECT id, at, \(unescaped: MessageStatus.queued.sql), reason, \(unescaped: kind), nb
            FROM counted WHERE n < \(unescaped: cap)
            """,
            on: c
        )
    }

    public func requeueExpiredLeases(nowMs: Int64) async throws -> Int {
        try await requeueLeases(
            "lease_until < \(nowMs)",
            atMs: nowMs,
            reason: "the claim's lease ended before its channel answered (a stopped node or a lost answer)"
        )
    }

    public func requeueOwnLeases() async throws -> Int {
        try await requeueLeases(
            "lease_owner = \(nodeNumber)",
            atMs: Int64(Date().timeIntervalSince1970 * 1000),
            reason: "claimed before a restart, queued again"
        )
    }

    /// Returns claims matching `condition` (SQL over numbers only) to the queue, each with an event saying why.
    private func requeueLeases(_ condition: String, atMs: Int64, reason: String) async throws -> Int {
        let kind = String(HistoryEventKind.requeued.rawValue)
        let cap = String(HistoryEventKind.maxRowsPerMessage)
        return try await first(
            """
            WITH moved AS (
                UPDATE messages SET status = \(unescaped: MessageStatus.queued.sql), lease_until = NULL, lease_owner = NULL
                WHERE status = \(unescaped: MessageStatus.submitting.sql) AND \(unescaped: condition) RETURNING id
            ), recorded AS (
                INSERT INTO message_events (message_id, at, status, detail, kind)
                SELECT id, \(atMs), \(unescaped: MessageStatus.queued.sql), \(reason), \(unescaped: kind) FROM moved
                WHERE (SELECT COUNT(*) FROM message_events WHERE message_id = moved.id AND kind = \(unescaped: kind))
                    < \(unescaped: cap)
            )
            SELECT COUNT(*) FROM moved
            """
        ) { try $0.get(0, as: Int.self) } ?? 0
    }

    public func expireQueued(nowMs: Int64) async throws -> [StatusUpdate] {
        try await transaction { c in
            let ids = try await self.rows(
                """
                SELECT id FROM messages
                WHERE status = \(unescaped: MessageStatus.queued.sql)
                    AND expires_at IS NOT NULL AND expires_at <= \(nowMs)
                LIMIT 10000 FOR UPDATE SKIP LOCKED
                """,
                on: c
            ) { try $0.get(0, as: Int64.self) }
            let updates = ids.map {
                StatusUpdate(
                    id: $0,
                    status: .expired,
                    errorCode: "EXPIRED",
                    errorDescription: "The validity period ended before the message could be sent",
                    atMs: nowMs
                )
            }
            return try await self.apply(updates, on: c)
        }
    }

    public func applyDueReceipts(nowMs: Int64, limit: Int) async throws -> [StatusUpdate] {
        // Asked every round; usually nothing is due (no sandbox): one read instead of a transaction's round trips.
        let due = try await first(
            "SELECT 1 FROM messages WHERE receipt_due IS NOT NULL AND receipt_due <= \(nowMs) LIMIT 1"
        ) { _ in true }
        guard due == true else { return [] }
        return try await transaction { c in
            let due = try await self.rows(
                """
                SELECT id, receipt_due, receipt_status, receipt_code, receipt_desc FROM messages
                WHERE receipt_due IS NOT NULL AND receipt_due <= \(nowMs) ORDER BY receipt_due LIMIT \(limit) FOR UPDATE SKIP LOCKED
                """,
                on: c
            ) { r in
                StatusUpdate(
                    id: try r.get(0),
                    status: MessageStatus(rawValue: try r.get(2)) ?? .delivered,
                    errorCode: try r.get(3, as: String?.self) ?? "",
                    errorDescription: try r.get(4, as: String?.self) ?? "",
                    atMs: try r.get(1)
                )
            }
            return try await self.apply(due, on: c)
        }
    }

    public func counts() async throws -> [MessageStatus: Int] {
        var result: [MessageStatus: Int] = [:]
        for (status, n) in try await rows(
            "SELECT status, COUNT(*) FROM messages GROUP BY status",
            { (try $0.get(0, as: Int.self), try $0.get(1, as: Int.self)) }
        ) {
            if let s = MessageStatus(rawValue: status) { result[s] = n }
        }
        return result
    }

    public func queueDepth() async throws -> [Priority: Int] {
        var result: [Priority: Int] = [:]
        for (p, n) in try await rows(
            """
            SELECT priority, COUNT(*) FROM messages WHERE status = \(unescaped: MessageStatus.queued.sql)
            GROUP BY priority
            """,
            { (try $0.get(0, as: Int.self), try $0.get(1, as: Int.self)) }
        ) {
            if let p = Priority(rawValue: p) { result[p] = n }
        }
        return result
    }

    public func sandboxMessages(account: String?, to: String?, limit: Int) async throws -> [SandboxEntry] {
        try await rows(
            """
            SELECT message_id, account, recipient, sender, body, segments, received_at, outcome FROM sandbox_inbox
            WHERE (\(account)::text IS NULL OR account = \(account)) AND (\(to)::text IS NULL OR recipient = \(to)) ORDER BY received_at DESC, seq DESC LIMIT \(limit)
            """
        ) {
            SandboxEntry(
                messageId: try $0.get(0),
                account: try $0.get(1),
                to: try $0.get(2),
                from: try $0.get(3),
                text: try $0.get(4),
                segments: try $0.get(5),
                receivedAtMs: try $0.get(6),
                outcome: try $0.get(7)
            )
        }
    }

    public func clearSandbox(account: String?, to: String?) async throws -> Int {
        try await run(
            """
            DELETE FROM sandbox_inbox WHERE (\(account)::text IS NULL OR account = \(account)) \
            AND (\(to)::text IS NULL OR recipient = \(to)) RETURNING 1
            """
        )
    }

    // MARK: Nodes

    public func registerNode(name: String, nowMs: Int64, staleMs: Int64) async throws -> Int {
        let id: Int = try await transaction { c in
            // One registration at a time (a table lock for an instant at startup), so two nodes never pick one number.
            try await self.run("LOCK TABLE nodes IN EXCLUSIVE MODE", on: c)
            if let known = try await self.first(
                "SELECT id FROM nodes WHERE name = \(name)",
                on: c,
                { try $0.get(0, as: Int.self) }
            ) {
                try await self.run("UPDATE nodes SET heartbeat = \(nowMs) WHERE id = \(known)", on: c)
                return known
            }
            if let stale = try await self.first(
                "SELECT id FROM nodes WHERE heartbeat < \(nowMs - staleMs) ORDER BY id LIMIT 1",
                on: c,
                { try $0.get(0, as: Int.self) }
            ) {
                try await self.run("UPDATE nodes SET name = \(name), heartbeat = \(nowMs) WHERE id = \(stale)", on: c)
                return stale
            }
            let next =
                try await self.first("SELECT COALESCE(MAX(id) + 1, 0) FROM nodes", on: c) {
                    try $0.get(0, as: Int.self)
                } ?? 0
            guard next < 256 else {
                throw StoreError.conflict("256 nodes are alive on this database; no node number is free")
            }
            try await self.run("INSERT INTO nodes (id, name, heartbeat) VALUES (\(next), \(name), \(nowMs))", on: c)
            return next
        }
        nodeNumber = id
        nodeName = name
        return id
    }

    public func heartbeat(nowMs: Int64, staleMs: Int64) async throws -> Int {
        let kept = try await run(
            "UPDATE nodes SET heartbeat = \(nowMs) WHERE id = \(nodeNumber) AND name = \(nodeName) RETURNING 1"
        )
        // Silent for longer than staleMs (the database out of reach), this node's number went to a new node: going
        // on would make message ids both could hand out.
        guard kept > 0 else { throw StoreError.nodeNumberLost(nodeNumber) }
        return try await first("SELECT COUNT(*) FROM nodes WHERE heartbeat >= \(nowMs - staleMs)") {
            try $0.get(0, as: Int.self)
        } ?? 1
    }

    public func leaseBindSlots(channel: String, want: Int, total: Int, nowMs: Int64, untilMs: Int64) async throws -> Int
    {
        let me = nodeNumber
        return try await transaction { c in
            // Every node leases every few seconds: a table lock for that instant keeps the arithmetic simple.
            try await self.run("LOCK TABLE bind_slots IN EXCLUSIVE MODE", on: c)
            let held = try await self.rows(
                "SELECT slot, node FROM bind_slots WHERE channel = \(channel) AND (until >= \(nowMs) OR node = \(me))",
                on: c
            ) { (try $0.get(0, as: Int.self), try $0.get(1, as: Int.self)) }
            let mine = held.filter { $0.1 == me }.map(\.0).filter { $0 < total }.sorted()
            let taken = Set(held.filter { $0.1 != me }.map(\.0))
            var keep = Array(mine.prefix(want))
            for slot in 0..<total where keep.count < want && !taken.contains(slot) && !keep.contains(slot) {
                keep.append(slot)
            }
            try await self.run(
                "DELETE FROM bind_slots WHERE channel = \(channel) AND (node = \(me) OR until < \(nowMs))",
                on: c
            )
            if !keep.isEmpty {
                try await self.run(
                    """
                    INSERT INTO bind_slots (channel, slot, node, until)
                    SELECT \(channel), s, \(me), \(untilMs) FROM unnest(\(keep)) AS u(s)
                    """,
                    on: c
                )
            }
            return keep.count
        }
    }

    public func releaseBindSlots() async throws {
        try await run("DELETE FROM bind_slots WHERE node = \(nodeNumber)")
    }
}
