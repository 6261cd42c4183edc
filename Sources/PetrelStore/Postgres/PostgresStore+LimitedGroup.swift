import PetrelCore
import PostgresNIO

extension PostgresStore {
    /// What a limited group decided: per request its outcome, and what to count (by account).
    struct GroupDecision {
        var outcomes: [SendLimitCheck.Outcome] = []
        var log: [String: (at: Int64, bytes: [UInt8])] = [:]
        var parts: [String: [CapKey: (end: Int64, parts: Int)]] = [:]
        var guarded: [String: [PumpingBucket: Int]] = [:]
    }

    /// Requests under limits, grouped by the group commit (or one alone). A group of one account whose head this
    /// node's memory is at (the common case: one node, or one node per account) is decided in memory and written
    /// in one statement, which moves the head only if no other transaction did (`LimitedGroupSQL`). Otherwise, or
    /// when that finds the head moved, in one transaction: every message first, then the heads of the accounts
    /// whose sends are counted (per number or by caps; in account order) moved and locked, the log rows past
    /// `seen` and the cap counters read, the decisions in arrival order (a later request counts an earlier one's
    /// sends), the refused deleted, and one write of the counts. Exact across nodes. A nonce used before fails the
    /// group (nothing written): the group commit then writes each request alone, and only the replay is refused.
    func commitGroup(_ items: [(WriteBatch, SendLimits)]) async throws -> [[ResponseCode?]] {
        var capKeys: [String: Set<CapKey>] = [:]
        var numbers: [String: Set<String>] = [:]
        var since = Int64.max
        var now: Int64 = 0
        let plans = items.map { SendLimitCheck.plan($0.0, $0.1) }
        for ((batch, limits), plan) in zip(items, plans) {
            let account = batch.messages.first?.account ?? ""
            let keys = plan.capKeys
            if !keys.isEmpty { capKeys[account, default: []].formUnion(keys) }
            let counted = SendLimitCheck.recipients(batch, limits.perNumber)
            if !counted.isEmpty { numbers[account, default: []].formUnion(counted) }
            let latest = batch.messages.map(\.createdAtMs).max() ?? 0
            since = min(since, latest - NumberLimits.horizonMs)
            now = max(now, latest)
        }
        let locked = Set(capKeys.keys).union(numbers.keys).sorted()
        if locked.count == 1, let account = locked.first, !items.contains(where: { $0.0.campaign != nil }),
            let fast = sendMemory.fast(
                account: account,
                recipients: numbers[account] ?? [],
                capKeys: capKeys[account] ?? [],
                since: since,
                nowMs: now
            )
        {
            let d = Self.decide(items, plans, history: [account: fast.history], used: [account: fast.caps])
            let entry = d.log[account]
            let moved = try await prepared(
                LimitedGroupSQL.self,
                { LimitedGroupSQL.bind(&$0, account: account, head: fast.head, d.outcomes.map(\.kept), entry, d) },
                { try $0.get(0, as: Int64.self) }
            )
            if let head = moved.first {
                let rows = entry.map { [(head, account, $0.bytes)] } ?? []
                sendMemory.applyOwn(
                    rows,
                    heads: [account: head],
                    parts: d.parts,
                    generation: fast.generation,
                    forgetMs: since
                )
                return d.outcomes.map(\.refusals)
            }
            // Another transaction moved the head: read what it counted, under the lock.
        }
        let (refusals, written, heads, parts, generation) = try await transaction { c in
            // Every message first, before any lock: the heaviest write does not hold the account's turn. Those a
            // limit refuses are deleted below, in this transaction, so no one ever sees them.
            let batches = items.map(\.0)
            let stored = try await Self.insert(batches, client: self.client, on: c, logger: self.logger)
            if batches.contains(where: { b in b.nonce.map { !stored.contains($0.hash) } ?? false }) {
                throw StoreError.nonceUsed
            }
            var heads: [String: Int64] = [:]
            if !locked.isEmpty {
                // Moving the heads locks their rows until COMMIT: the accounts' limited accepts take turns.
                let moved = try await self.rows(
                    """
                    INSERT INTO limit_heads (account, seq) SELECT a, 1 FROM unnest(\(locked)::text[]) AS x(a)
                    ON CONFLICT (account) DO UPDATE SET seq = limit_heads.seq + 1
                    RETURNING account, seq
                    """,
                    on: c
                ) { (try $0.get(0, as: String.self), try $0.get(1, as: Int64.self)) }
                for (account, head) in moved { heads[account] = head }
            }
            // Read after the locks: every send of these accounts committed before this one is in them.
            let used = capKeys.isEmpty ? [:] : try await self.capsUsed(capKeys, on: c)
            var reading = numbers
            for account in locked where reading[account] == nil { reading[account] = [] }
            let read = try await self.countedHistory(reading, since: since, on: c)
            self.sendMemory.settle(
                heads: heads,
                caps: used,
                legacyUntil: read.legacy > 0 ? read.legacy + NumberLimits.horizonMs : 0,
                generation: read.generation
            )
            let d = Self.decide(items, plans, history: read.history, used: used)
            var refused: [Int64] = []
            for ((batch, _), o) in zip(items, d.outcomes) {
                for (m, refusal) in zip(batch.messages, o.refusals) where refusal != nil { refused.append(m.id) }
            }
            if !refused.isEmpty {
                try await self.run("DELETE FROM messages WHERE id = ANY(\(refused)::bigint[])", on: c)
            }
            for o in d.outcomes { if let p = o.kept.campaign { try await self.write(p, on: c) } }
            let written = try await self.writeCounts(log: d.log, heads: heads, caps: d.parts, guarded: d.guarded, on: c)
            return (d.outcomes.map(\.refusals), written, heads, d.parts, read.generation)
        }
        // After COMMIT: a rolled-back transaction's sends never count.
        sendMemory.applyOwn(written, heads: heads, parts: parts, generation: generation, forgetMs: since)
        return refusals
    }

    /// The decisions of a group in arrival order: a later request counts the sends and parts of the earlier ones.
    static func decide(
        _ items: [(WriteBatch, SendLimits)],
        _ plans: [SendLimitCheck.Plan],
        history counted: [String: [String: [LimitedSend]]],
        used counters: [String: [CapKey: Int]]
    ) -> GroupDecision {
        var history = counted
        var used = counters
        var d = GroupDecision()
        for ((batch, limits), plan) in zip(items, plans) {
            let account = batch.messages.first?.account ?? ""
            let o = SendLimitCheck.decide(
                batch,
                limits,
                history: history[account] ?? [:],
                used: used[account] ?? [:],
                plan: plan
            )
            for i in o.counted {
                let m = batch.messages[i]
                history[account, default: [:]][m.to, default: []].append(LimitedSend(type: m.type, atMs: m.createdAtMs))
                // (Recipients are numbers: at most 20 digits from any action, far from the blob's 255 bytes.)
                d.log[account, default: (0, [])].at = max(d.log[account]?.at ?? 0, m.createdAtMs)
                LimitMemory.encode(
                    m.to.utf8.prefix(255),
                    SendMemory.pack(m.type, m.createdAtMs),
                    into: &d.log[account, default: (0, [])].bytes
                )
            }
            for (key, value) in o.parts {
                used[account, default: [:]][key, default: 0] += value.parts
                d.parts[account, default: [:]][key, default: (value.end, 0)].parts += value.parts
            }
            for (bucket, n) in o.guarded { d.guarded[account, default: [:]][bucket, default: 0] += n }
            d.outcomes.append(o)
        }
        return d
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
