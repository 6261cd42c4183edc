import PetrelCore
import PostgresNIO
import Synchronization

/// Group commit for PostgreSQL: requests that arrive while a statement is running wait for the next one and go
/// together, one INSERT (and one WAL flush) for all of them. A few statements run side by side on separate
/// connections. Each request keeps its own outcome: a nonce another request (or node) already used refuses only
/// that request's messages, and if the shared statement fails for any other reason each request is tried alone.
///
/// The statements run in drain tasks, started by the request that finds fewer than `maxRunning` running (a request
/// must not wait for a scheduler hop before its group can form). They are owned: kept in the state until they end,
/// and `close` refuses new requests and awaits them, so no write is left running when the store closes.
final class PostgresGroupCommit: Sendable {
    /// Called once with the request's outcome, from a drain task (no thread to hop back to: the caller chose).
    typealias Waiter = @Sendable (Result<Void, any Error>) -> Void

    private struct State {
        var pending: [(batch: WriteBatch, waiter: Waiter)] = []
        var running = 0
        var drains: [Int: Task<Void, Never>] = [:]
        var nextDrain = 0
        var closed = false
    }

    private let state = Mutex(State())
    private let maxRunning: Int
    private let maxMessages: Int
    private let run: @Sendable ([WriteBatch]) async throws -> Set<Int64>
    private let single: @Sendable (WriteBatch) async throws -> Void

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

    func commit(_ batch: WriteBatch) async throws {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
            commit(batch) { c.resume(with: $0) }
        }
    }

    /// `commit` for a caller on an event loop that must not wait in a task (the RPC door): no task per request.
    func commit(_ batch: WriteBatch, then waiter: @escaping Waiter) {
        let taken = state.withLock { s -> Bool in
            guard !s.closed else { return false }
            s.pending.append((batch, waiter))
            guard s.running < maxRunning else { return true }
            s.running += 1
            // Made under the lock, so the drain is in `drains` before it can end and remove itself.
            let id = s.nextDrain
            s.nextDrain += 1
            s.drains[id] = Task { await self.drain(id) }
            return true
        }
        if !taken { waiter(.failure(StoreError.closed)) }
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

    private func drain(_ id: Int) async {
        while true {
            let group = state.withLock { s -> [(batch: WriteBatch, waiter: Waiter)] in
                var count = 0
                var taken = 0
                while taken < s.pending.count,
                    taken == 0 || count + s.pending[taken].batch.messages.count <= maxMessages
                {
                    count += s.pending[taken].batch.messages.count
                    taken += 1
                }
                if taken == 0 {
                    s.running -= 1
                    s.drains[id] = nil
                }
                defer { s.pending.removeFirst(taken) }
                return Array(s.pending.prefix(taken))
            }
            if group.isEmpty { return }
            await write(group)
        }
    }

    private func write(_ group: [(batch: WriteBatch, waiter: Waiter)]) async {
        // A nonce twice in one group: the later request is a replay.
        var seen = Set<Int64>()
        var members: [(batch: WriteBatch, waiter: Waiter)] = []
        for m in group {
            if let hash = m.batch.nonce?.hash, !seen.insert(hash).inserted {
                m.waiter(.failure(StoreError.nonceUsed))
            } else {
                members.append(m)
            }
        }
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
    static let sql = """
        WITH n AS (
            INSERT INTO nonces (hash, expires_at) SELECT h, e FROM unnest($1::bigint[], $2::bigint[]) AS x(h, e)
            ON CONFLICT (hash) DO NOTHING RETURNING hash
        ), m AS (
            INSERT INTO messages (id, account, recipient, sender, body, type, task_id, requested_channel, priority,
                segments, encoding, status, error_code, error_desc, created_at, not_before, expires_at)
            SELECT i, a, r, s, b, t, k, c, p, g, e, st, ec, ed, ca, nb, NULLIF(ex, -1)
            FROM unnest($3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
                $11::int[], $12::int[], $13::text[], $14::int[], $15::text[], $16::text[], $17::bigint[], $18::bigint[],
                $19::bigint[], $20::bool[], $21::bigint[]) AS x(i, a, r, s, b, t, k, c, p, g, e, st, ec, ed, ca, nb, ex, hn, nh)
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
    }
}
