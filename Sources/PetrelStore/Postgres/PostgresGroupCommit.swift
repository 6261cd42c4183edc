import PetrelCore
import PostgresNIO
import Synchronization

/// Group commit for PostgreSQL: requests that arrive while a statement is running wait for the next one and go
/// together, one INSERT (and one WAL flush) for all of them. A few statements run side by side on separate
/// connections. Each request keeps its own outcome: a nonce another request (or node) already used refuses only
/// that request's messages, and if the shared statement fails for any other reason each request is tried alone.
///
/// Accepts under `limits:` go in groups too, each group in one transaction of their own (`runLimited`): one set of
/// locks, reads and writes, and one WAL flush, for every request of the group (alone, each took a transaction and
/// a flush, and an account's caps lock made them take turns).
///
/// The statements run in drain tasks, started by the request that finds fewer than `maxRunning` running (a request
/// must not wait for a scheduler hop before its group can form). They are owned: kept in the state until they end,
/// and `close` refuses new requests and awaits them, so no write is left running when the store closes.
final class PostgresGroupCommit: Sendable {
    /// Called once with the request's outcome, from a drain task (no thread to hop back to: the caller chose).
    typealias Waiter = @Sendable (Result<Void, any Error>) -> Void
    /// A request under limits: per message, nil when stored or the refusal.
    typealias LimitedWaiter = @Sendable (Result<[ResponseCode?], any Error>) -> Void
    typealias Limited = (batch: WriteBatch, limits: SendLimits, waiter: LimitedWaiter)

    private struct State {
        var pending: [(batch: WriteBatch, waiter: Waiter)] = []
        var limited: [Limited] = []
        var running = 0
        /// Drains writing a limited group. Requests under limits gather into few groups (their decisions take
        /// turns); a second drain starts only for a large group (`secondLimitedAbove` messages), which stores its
        /// messages while the other decides. Small groups do better waiting: each is one statement in the turn, and
        /// a second drain only split them into more statements (singles measured 0.59-0.79 of the unlimited rate
        /// with two drains, 0.87 with one).
        var limitedRunning = 0
        var drains: [Int: Task<Void, Never>] = [:]
        var nextDrain = 0
        var closed = false
    }

    private let state = Mutex(State())
    private let maxRunning: Int
    private let maxMessages: Int
    private let run: @Sendable ([WriteBatch]) async throws -> Set<Int64>
    private let single: @Sendable (WriteBatch) async throws -> Void
    typealias RunLimited = @Sendable ([(WriteBatch, SendLimits)]) async throws -> [[ResponseCode?]]
    typealias SingleLimited = @Sendable (WriteBatch, SendLimits) async throws -> [ResponseCode?]
    /// Set once by the store, after its own init (they call back into it).
    private let limitedHandlers = Mutex<(run: RunLimited, single: SingleLimited)?>(nil)

    /// `run` writes a group and returns the nonces it stored; `single` writes one batch on its own.
    init(
        maxRunning: Int = 4,
        maxMessages: Int = 5000,
        run: @escaping @Sendable ([WriteBatch]) async throws -> Set<Int64>,
        single: @escaping @Sendable (WriteBatch) async throws -> Void
    ) {
        self.maxRunning = maxRunning
        self.maxMessages = maxMessages
        self.run = run
        self.single = single
    }

    /// How requests under limits are written: a group in one transaction (`run`, each request's refusals in
    /// order), or one alone (`single`).
    func handleLimited(run: @escaping RunLimited, single: @escaping SingleLimited) {
        limitedHandlers.withLock { $0 = (run, single) }
    }

    func commit(_ batch: WriteBatch) async throws {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
            commit(batch) { c.resume(with: $0) }
        }
    }

    /// `commit` for a caller on an event loop that must not wait in a task (the RPC door): no task per request.
    func commit(_ batch: WriteBatch, then waiter: @escaping Waiter) {
        if !enqueue({ $0.pending.append((batch, waiter)) }) { waiter(.failure(StoreError.closed)) }
    }

    /// A request under limits, grouped with the others that arrive with it.
    func commit(_ batch: WriteBatch, limits: SendLimits, then waiter: @escaping LimitedWaiter) {
        if !enqueue({ $0.limited.append((batch, limits, waiter)) }) { waiter(.failure(StoreError.closed)) }
    }

    /// Adds a request and starts a drain if fewer than `maxRunning` run; false once closed.
    private func enqueue(_ add: (inout State) -> Void) -> Bool {
        state.withLock { s -> Bool in
            guard !s.closed else { return false }
            add(&s)
            guard s.running < maxRunning else { return true }
            s.running += 1
            // Made under the lock, so the drain is in `drains` before it can end and remove itself.
            let id = s.nextDrain
            s.nextDrain += 1
            s.drains[id] = Task { await self.drain(id) }
            return true
        }
    }

    /// Runs `work` in a task owned like the drains (`close` awaits it); false once closed, and `work` does not run.
    func perform(_ work: @escaping @Sendable () async -> Void) -> Bool {
        state.withLock { s in
            guard !s.closed else { return false }
            let id = s.nextDrain
            s.nextDrain += 1
            s.drains[id] = Task {
                await work()
                self.state.withLock { _ = $0.drains.removeValue(forKey: id) }
            }
            return true
        }
    }

    /// Refuses new requests and returns once every request already taken is answered.
    func close() async {
        let drains = state.withLock { s in
            s.closed = true
            return Array(s.drains.values)
        }
        for drain in drains { await drain.value }
    }

    static let maxLimited = 2
    /// (PostgresStore.oneStatementMessages: groups up to it are written in one statement.)
    static let secondLimitedAbove = 500

    private func drain(_ id: Int) async {
        while true {
            let (group, limited) = state.withLock { s -> ([(batch: WriteBatch, waiter: Waiter)], [Limited]) in
                var count = 0
                let taken = Self.prefix(s.pending, upTo: maxMessages, counted: &count) { $0.batch.messages.count }
                let takenLimited =
                    s.limitedRunning >= Self.maxLimited
                        || (s.limitedRunning > 0
                            && s.limited.reduce(0, { $0 + $1.batch.messages.count }) <= Self.secondLimitedAbove)
                    ? 0
                    : Self.prefix(s.limited, upTo: maxMessages, counted: &count) { $0.batch.messages.count }
                if takenLimited > 0 { s.limitedRunning += 1 }
                if taken == 0 && takenLimited == 0 {
                    s.running -= 1
                    s.drains[id] = nil
                }
                defer {
                    s.pending.removeFirst(taken)
                    s.limited.removeFirst(takenLimited)
                }
                return (Array(s.pending.prefix(taken)), Array(s.limited.prefix(takenLimited)))
            }
            if group.isEmpty && limited.isEmpty { return }
            if !group.isEmpty { await write(group) }
            if !limited.isEmpty {
                await write(limited)
                state.withLock { $0.limitedRunning -= 1 }
            }
        }
    }

    /// How many of `items` from the start fit in `limit` messages with the `count` already taken (at least one
    /// when none is taken yet).
    private static func prefix<T>(_ items: [T], upTo limit: Int, counted count: inout Int, _ size: (T) -> Int) -> Int {
        var taken = 0
        while taken < items.count, count == 0 || count + size(items[taken]) <= limit {
            count += size(items[taken])
            taken += 1
        }
        return taken
    }

    /// A nonce twice in one group: the later request is a replay (refused); one statement would store the nonce
    /// once and both requests' messages.
    private static func withoutReplays<T>(_ all: [T], _ batch: KeyPath<T, WriteBatch>, refuse: (T) -> Void) -> [T] {
        var seen = Set<Int64>()
        return all.filter { m in
            guard let hash = m[keyPath: batch].nonce?.hash, !seen.insert(hash).inserted else { return true }
            refuse(m)
            return false
        }
    }

    private func write(_ all: [Limited]) async {
        guard let (runLimited, singleLimited) = limitedHandlers.withLock({ $0 }) else {
            for m in all { m.waiter(.failure(StoreError.closed)) }
            return
        }
        let group = Self.withoutReplays(all, \.batch) { $0.waiter(.failure(StoreError.nonceUsed)) }
        do {
            let outcomes = try await runLimited(group.map { ($0.batch, $0.limits) })
            for (m, outcome) in zip(group, outcomes) { m.waiter(.success(outcome)) }
        } catch {
            // A nonce used before (a replay) or any other failure: the transaction rolled back, each alone.
            for m in group {
                do {
                    m.waiter(.success(try await singleLimited(m.batch, m.limits)))
                } catch {
                    m.waiter(.failure(error))
                }
            }
        }
    }

    private func write(_ group: [(batch: WriteBatch, waiter: Waiter)]) async {
        let members = Self.withoutReplays(group, \.batch) { $0.waiter(.failure(StoreError.nonceUsed)) }
        do {
            let stored = try await run(members.map(\.batch))
            for m in members {
                if let hash = m.batch.nonce?.hash, !stored.contains(hash) {
                    m.waiter(.failure(StoreError.nonceUsed))
                } else {
                    m.waiter(.success(()))
                }
            }
        } catch {
            for m in members {
                do {
                    try await single(m.batch)
                    m.waiter(.success(()))
                } catch {
                    m.waiter(.failure(error))
                }
            }
        }
    }
}

/// A group of requests: nonces inserted unless already known; each message inserted only if its request's nonce
/// was (or it had none). Returns the nonces inserted.
enum InsertGroupSQL: PreparedSQL {
    /// The messages of `bind`'s $3-$25, as rows `x` (hn: the request has a nonce, nh: its hash), to be inserted.
    static let insertMessages = """
        INSERT INTO messages (id, account, recipient, sender, body, type, task_id, requested_channel, priority,
            segments, encoding, status, error_code, error_desc, created_at, not_before, expires_at, api, template_code, biz_id,
            ext_code)
        SELECT i, a, r, s, b, t, k, c, p, g, e, st, ec, ed, ca, nb, NULLIF(ex, -1), av, tc, bz, xc
        FROM unnest($3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
            $11::int[], $12::int[], $13::text[], $14::int[], $15::text[], $16::text[], $17::bigint[], $18::bigint[],
            $19::bigint[], $20::bool[], $21::bigint[], $22::smallint[], $23::text[], $24::bigint[], $25::text[])
            AS x(i, a, r, s, b, t, k, c, p, g, e, st, ec, ed, ca, nb, ex, hn, nh, av, tc, bz, xc)
        """

    static let sql = """
        WITH n AS (
            INSERT INTO nonces (hash, expires_at) SELECT h, e FROM unnest($1::bigint[], $2::bigint[]) AS x(h, e)
            ON CONFLICT (hash) DO NOTHING RETURNING hash
        ), m AS (
            \(insertMessages)
            WHERE NOT x.hn OR x.nh IN (SELECT hash FROM n)
        )
        SELECT hash FROM n
        """

    static func bind(_ b: inout PostgresBindings, _ batches: [WriteBatch]) {
        let nonces = batches.compactMap(\.nonce)
        b.append(nonces.map(\.hash))
        b.append(nonces.map(\.expiresAtMs))
        let m = batches.flatMap(\.messages)
        let owners = batches.flatMap { batch in batch.messages.map { _ in batch.nonce } }
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
        b.append(owners.map { $0 != nil })
        b.append(owners.map { $0?.hash ?? 0 })
        b.append(m.map { Int16($0.api.rawValue) })
        b.append(m.map(\.templateCode))
        b.append(m.map(\.bizId))
        b.append(m.map(\.extendCode))
    }
}
