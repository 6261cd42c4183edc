import PetrelCore
import PostgresNIO

extension PostgresStore {
    /// Requests under limits, grouped by the group commit (or one alone), in one transaction: one lock per account
    /// whose sends are counted (per number or by caps; in account order, so none waits on another), one read of
    /// their counters, the decisions in arrival order (a later request counts an earlier one's sends), then one
    /// write of each kind. Exact across nodes: the limited accepts of one account take turns, a group at a time.
    /// (One advisory lock per number, as before, filled PostgreSQL's shared lock table: a few groups of 5,000
    /// numbers each failed with "out of shared memory" and fell back to one transaction per request, 0.05 of the
    /// unlimited rate.) A nonce used before fails the group (rolled back): the group commit then writes each
    /// request alone, and only the replay is refused.
    func commitGroup(_ items: [(WriteBatch, SendLimits)]) async throws -> [[ResponseCode?]] {
        var capKeys: [String: Set<CapKey>] = [:]
        var numbers: [String: Set<String>] = [:]
        var since = Int64.max
        let plans = items.map { SendLimitCheck.plan($0.0, $0.1) }
        for ((batch, limits), plan) in zip(items, plans) {
            let account = batch.messages.first?.account ?? ""
            let keys = plan.capKeys
            if !keys.isEmpty { capKeys[account, default: []].formUnion(keys) }
            let counted = SendLimitCheck.recipients(batch, limits.perNumber)
            if !counted.isEmpty { numbers[account, default: []].formUnion(counted) }
            since = min(since, (batch.messages.map(\.createdAtMs).max() ?? 0) - NumberLimits.horizonMs)
        }
        let locked = Set(capKeys.keys).union(numbers.keys).sorted()
        let (refusals, written, generation) = try await transaction { c in
            // Every message first, before any lock: the heaviest write does not hold the account's turn. Those a
            // limit refuses are deleted below, in this transaction, so no one ever sees them.
            let batches = items.map(\.0)
            let stored = try await Self.insert(batches, client: self.client, on: c, logger: self.logger)
            if batches.contains(where: { b in b.nonce.map { !stored.contains($0.hash) } ?? false }) {
                throw StoreError.nonceUsed
            }
            if !locked.isEmpty {
                try await self.run(
                    """
                    SELECT pg_advisory_xact_lock(hashtextextended('limits ' || a, 0))
                    FROM unnest(\(locked)::text[]) WITH ORDINALITY AS x(a, i) ORDER BY i
                    """,
                    on: c
                )
            }
            var used = capKeys.isEmpty ? [:] : try await self.capsUsed(capKeys, on: c)
            // Read after the locks: every send of these accounts committed before this one is in it.
            let read = numbers.isEmpty ? nil : try await self.countedHistory(numbers, since: since, on: c)
            var history = read?.history ?? [:]
            var outcomes: [SendLimitCheck.Outcome] = []
            var log: [String: (at: Int64, bytes: [UInt8])] = [:]
            var parts: [String: [CapKey: (end: Int64, parts: Int)]] = [:]
            var guarded: [String: [PumpingBucket: Int]] = [:]
            for ((batch, limits), plan) in zip(items, plans) {
                let account = batch.messages.first?.account ?? ""
                let o = SendLimitCheck.decide(
                    batch,
                    limits,
                    history: history[account] ?? [:],
                    used: used[account] ?? [:],
                    plan: plan
                )
                // The requests after this one count what it stored.
                for i in o.counted {
                    let m = batch.messages[i]
                    history[account, default: [:]][m.to, default: []].append(
                        LimitedSend(type: m.type, atMs: m.createdAtMs)
                    )
                    // (Recipients are numbers: at most 20 digits from any action, far from the blob's 255 bytes.)
                    log[account, default: (0, [])].at = max(log[account]?.at ?? 0, m.createdAtMs)
                    LimitMemory.encode(
                        m.to.utf8.prefix(255),
                        SendMemory.pack(m.type, m.createdAtMs),
                        into: &log[account, default: (0, [])].bytes
                    )
                }
                for (key, value) in o.parts {
                    used[account, default: [:]][key, default: 0] += value.parts
                    parts[account, default: [:]][key, default: (value.end, 0)].parts += value.parts
                }
                for (bucket, n) in o.guarded { guarded[account, default: [:]][bucket, default: 0] += n }
                outcomes.append(o)
            }
            var refused: [Int64] = []
            for ((batch, _), o) in zip(items, outcomes) {
                for (m, refusal) in zip(batch.messages, o.refusals) where refusal != nil { refused.append(m.id) }
            }
            if !refused.isEmpty {
                try await self.run("DELETE FROM messages WHERE id = ANY(\(refused)::bigint[])", on: c)
            }
            for o in outcomes { if let p = o.kept.campaign { try await self.write(p, on: c) } }
            let written = try await self.writeCounts(log: log, caps: parts, guarded: guarded, on: c)
            return (outcomes.map(\.refusals), written, read?.generation)
        }
        // After COMMIT: a rolled-back transaction's sends never count.
        if let generation, !written.isEmpty {
            sendMemory.applyOwn(written, generation: generation, forgetMs: since)
        }
        return refusals
    }

    /// The parts counted so far against `keys`, by account (under the accounts' caps locks).
    func capsUsed(_ keys: [String: Set<CapKey>], on c: PostgresConnection) async throws -> [String: [CapKey: Int]] {
        let all = keys.flatMap { account, keys in keys.map { (account, $0) } }
        let rows = try await self.rows(
            """
            SELECT x.a, x.c, x.s, x.t, COALESCE(k.parts, 0)
            FROM unnest(\(all.map(\.0))::text[], \(all.map(\.1.country))::text[], \(all.map(\.1.window.rawValue))::text[],
                \(all.map(\.1.start))::bigint[]) AS x(a, c, s, t)
            LEFT JOIN cap_counts k ON k.account = x.a AND k.country = x.c AND k.span = x.s AND k.start = x.t
            """,
            on: c
        ) { row in
            (
                try row.get(0, as: String.self), try row.get(1, as: String.self), try row.get(2, as: String.self),
                try row.get(3, as: Int64.self), try row.get(4, as: Int64.self)
            )
        }
        var used: [String: [CapKey: Int]] = [:]
        for (account, country, span, start, parts) in rows {
            guard let window = CapWindow(rawValue: span) else { continue }
            used[account, default: [:]][CapKey(country: country, window: window, start: start)] = Int(parts)
        }
        return used
    }
}
