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

    /// What a limited group needs before it is decided: the plans, the numbers and cap counters it is checked
    /// against (by account), and the accounts whose heads it moves.
    struct LimitedGroup {
        var items: [(WriteBatch, SendLimits)]
        var plans: [SendLimitCheck.Plan]
        var capKeys: [String: Set<CapKey>] = [:]
        var numbers: [String: Set<String>] = [:]
        var since = Int64.max
        var now: Int64 = 0
        var messages = 0

        init(_ items: [(WriteBatch, SendLimits)]) {
            self.items = items
            plans = items.map { SendLimitCheck.plan($0.0, $0.1) }
            for ((batch, limits), plan) in zip(items, plans) {
                let account = batch.messages.first?.account ?? ""
                let keys = plan.capKeys  // computed: made once
                if !keys.isEmpty { capKeys[account, default: []].formUnion(keys) }
                let counted = SendLimitCheck.recipients(batch, limits.perNumber)
                if !counted.isEmpty { numbers[account, default: []].formUnion(counted) }
                let latest = batch.messages.map(\.createdAtMs).max() ?? 0
                since = min(since, latest - NumberLimits.horizonMs)
                now = max(now, latest)
                messages += batch.messages.count
            }
        }

        var locked: [String] { Set(capKeys.keys).union(numbers.keys).sorted() }

        /// The one account of the group, when memory may decide it (no campaign's chunk: those go the slow way).
        var alone: String? {
            let locked = self.locked
            guard locked.count == 1, !items.contains(where: { $0.0.campaign != nil }) else { return nil }
            return locked.first
        }
    }

    /// Groups of at most this many messages are written in one statement when memory can decide them; larger ones
    /// store their messages first, outside the node's turn, so two overlap.
    static let oneStatementMessages = 500

    /// Requests under limits, grouped by the group commit (or one alone), decided in this node's turn
    /// (`LimitTurn`). A group of one account whose head this node's memory is at (the common case: one node, or
    /// one node per account) is decided in memory, and a small one is written in one statement that moves the head
    /// only if no other transaction did (`LimitedGroupSQL`). A large one, or one memory cannot decide, is one
    /// transaction: every message first (before the turn), then the head moved if it is still where memory is,
    /// or else the heads of its accounts moved and locked (in account order), the log rows past `seen` and the
    /// cap counters read, and the decisions taken; then the refused deleted and the counts written. Decisions go
    /// in arrival order (a later request counts an earlier one's sends). Exact across nodes. A nonce used before
    /// fails the group (nothing written): the group commit then writes each request alone, and only the replay is
    /// refused.
    func commitGroup(_ items: [(WriteBatch, SendLimits)]) async throws -> [[ResponseCode?]] {
        let g = LimitedGroup(items)
        if g.messages <= Self.oneStatementMessages, let account = g.alone {
            await limitTurn.take()
            do {
                let done = try await commitInOneStatement(g, account)
                limitTurn.give()
                if let done { return done }
            } catch {
                limitTurn.give()
                throw error
            }
        }
        let hold = LimitTurn.Hold(limitTurn)
        do {
            let refusals = try await transaction { c in
                // This attempt's token for the heads it moves (a retry takes another).
                let token = Int64.random(in: .min ... .max)
                // A retry after a rollback that came after this group was counted (below): memory holds sends that
                // never committed.
                if hold.counted {
                    self.sendMemory.reset()
                    self.sendMemory.endTentative(g.locked)
                    hold.counted = false
                }
                // Every message first, outside the turn: the heaviest write does not hold it. Those a limit refuses
                // are deleted below, in this transaction, so no one ever sees them. Their nonces only in the turn:
                // a replay of a request in flight would otherwise wait on that request's uncommitted nonce while
                // holding the turn the request waits for.
                let batches = items.map(\.0)
                let bare = batches.map { b in
                    var b = b
                    b.nonce = nil
                    return b
                }
                _ = try await Self.insert(bare, client: self.client, on: c, logger: self.logger)
                await hold.take()
                let nonces = batches.compactMap(\.nonce)
                if !nonces.isEmpty {
                    let stored = try await self.run(
                        """
                        INSERT INTO nonces (hash, expires_at)
                        SELECT h, e FROM unnest(\(nonces.map(\.hash))::bigint[], \(nonces.map(\.expiresAtMs))::bigint[]) AS x(h, e)
                        ON CONFLICT (hash) DO NOTHING RETURNING 1
                        """,
                        on: c
                    )
                    if stored < nonces.count { throw StoreError.nonceUsed }
                }
                let (d, heads, generation) = try await self.decideLocked(g, token: token, on: c)
                var refused: [Int64] = []
                for ((batch, _), o) in zip(items, d.outcomes) {
                    for (m, refusal) in zip(batch.messages, o.refusals) where refusal != nil { refused.append(m.id) }
                }
                if !refused.isEmpty {
                    try await self.run("DELETE FROM messages WHERE id = ANY(\(refused)::bigint[])", on: c)
                }
                for o in d.outcomes { if let p = o.kept.campaign { try await self.write(p, on: c) } }
                // Counted now, before COMMIT, and the turn given: the next group decides while this one's WAL is
                // flushed. It expects the head this group moved to, so PostgreSQL holds it until this COMMIT, and
                // if this one rolls back its head check fails; memory is then emptied (below) and read again.
                let written = d.log.compactMap { account, entry in
                    heads[account].map { (seq: $0, account: account, sends: entry.bytes) }
                }
                self.sendMemory.beginTentative(g.locked)
                hold.counted = true
                self.sendMemory.applyOwn(
                    written,
                    heads: heads,
                    token: token,
                    parts: d.parts,
                    generation: generation,
                    forgetMs: g.since
                )
                hold.give()
                return d.outcomes.map(\.refusals)
            }
            if hold.counted { sendMemory.endTentative(g.locked) }
            return refusals
        } catch {
            if hold.counted {
                sendMemory.reset()
                sendMemory.endTentative(g.locked)
            }
            hold.give()
            throw error
        }
    }

    /// A small group of one account, decided in memory and written in one statement; nil when memory cannot decide
    /// it or another transaction moved the head (nothing was written).
    private func commitInOneStatement(_ g: LimitedGroup, _ account: String) async throws -> [[ResponseCode?]]? {
        guard
            let fast = sendMemory.fast(
                account: account,
                recipients: g.numbers[account] ?? [],
                capKeys: g.capKeys[account] ?? [],
                since: g.since,
                nowMs: g.now
            )
        else { return nil }
        let d = Self.decide(g.items, g.plans, history: [account: fast.history], used: [account: fast.caps])
        let entry = d.log[account]
        let token = Int64.random(in: .min ... .max)
        let moved: [Int64]
        do {
            moved = try await prepared(
                LimitedGroupSQL.self,
                { b in
                    LimitedGroupSQL.bind(&b, account: account, head: fast.head, d.outcomes.map(\.kept), entry, d)
                    // The head moves only from the token this node made it with, and takes a new one.
                    b.append(token)
                    b.append(fast.token)
                },
                { try $0.get(0, as: Int64.self) }
            )
        } catch StoreError.conflict(LimitedGroupSQL.headMoved) {
            return nil  // another transaction moved the head: nothing was written, the group goes the slow way
        }
        guard let head = moved.first else { return nil }
        let rows = entry.map { [(head, account, $0.bytes)] } ?? []
        sendMemory.applyOwn(
            rows,
            heads: [account: head],
            token: token,
            parts: d.parts,
            generation: fast.generation,
            forgetMs: g.since
        )
        return d.outcomes.map(\.refusals)
    }

    /// In the turn, inside the group's transaction: the decisions, with the heads moved and the counts written.
    /// From memory when the head is still where memory is (one statement); otherwise with the heads locked and
    /// what other nodes counted read first.
    private func decideLocked(
        _ g: LimitedGroup,
        token: Int64,
        on c: PostgresConnection
    ) async throws -> (GroupDecision, heads: [String: Int64], generation: Int) {
        if let account = g.alone,
            let fast = sendMemory.fast(
                account: account,
                recipients: g.numbers[account] ?? [],
                capKeys: g.capKeys[account] ?? [],
                since: g.since,
                nowMs: g.now
            )
        {
            let d = Self.decide(g.items, g.plans, history: [account: fast.history], used: [account: fast.caps])
            if let head = try await moveHead(account, from: (fast.head, fast.token), to: token, d, on: c) {
                return (d, [account: head], fast.generation)
            }
        }
        let locked = g.locked
        var heads: [String: Int64] = [:]
        if !locked.isEmpty {
            // Moving the heads locks their rows until COMMIT: the accounts' limited accepts take turns.
            let moved = try await self.rows(
                """
                INSERT INTO limit_heads (account, seq, token) SELECT a, 1, \(token) FROM unnest(\(locked)::text[]) AS x(a)
                ON CONFLICT (account) DO UPDATE SET seq = limit_heads.seq + 1, token = excluded.token
                RETURNING account, seq
                """,
                on: c
            ) { (try $0.get(0, as: String.self), try $0.get(1, as: Int64.self)) }
            for (account, head) in moved { heads[account] = head }
            // A transaction of this node counted before its COMMIT held these heads until it ended; wait for its
            // task to say how (a rollback empties memory first).
            await sendMemory.waitForTentative(locked)
        }
        // Read after the locks: every send of these accounts committed before this one is in them.
        let used = g.capKeys.isEmpty ? [:] : try await self.capsUsed(g.capKeys, on: c)
        var reading = g.numbers
        for account in locked where reading[account] == nil { reading[account] = [] }
        let read = try await self.countedHistory(reading, since: g.since, on: c)
        sendMemory.settle(
            heads: heads,
            caps: used,
            legacyUntil: read.legacy > 0 ? read.legacy + NumberLimits.horizonMs : 0,
            generation: read.generation
        )
        let d = Self.decide(g.items, g.plans, history: read.history, used: used)
        try await writeCounts(log: d.log, heads: heads, caps: d.parts, guarded: d.guarded, on: c)
        return (d, heads, read.generation)
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
