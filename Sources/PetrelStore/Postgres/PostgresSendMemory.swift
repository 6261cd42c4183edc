import PetrelCore
import Synchronization

/// The sends `limits.perNumber` counted in the last day and the cap counters, held in this node's memory, and kept
/// exact across the nodes of one database by a shared log and a head per account.
///
/// Every limited transaction of an account moves the account's head (`limit_heads.seq`) on by one, which locks
/// the head's row until COMMIT, and writes its counted sends as one `send_log` row with that head as its `seq`
/// (packed in one blob, as the SQLite store writes them). So an account's rows commit in `seq` order, and `seen`
/// (memory holds every row up to it) tells whether anything was committed since: when the head is still `seen`,
/// this node's memory is the whole truth and a group is decided in memory and written in one statement that moves
/// the head only if it is still `seen` (`fast`). Otherwise the group takes the head's lock, reads the rows past
/// `seen` and the cap counters (`apply`, `settle`), decides, and writes. An index probe per recipient, as before,
/// held batches to a tenth of the unlimited rate.
///
/// Bounded by `capacity` sends. When a row does not fit, memory is no longer complete: until the next sweep
/// empties it (to be read again from the log), checks read the log on the database (exact, slow).
final class PostgresSendMemory: Sendable {
    typealias LogRow = (seq: Int64, account: String, sends: [UInt8])

    struct State {
        var memory: SendMemory
        /// Per account, the head up to which memory holds every log row (absent: none read yet; read from 0).
        var seen: [String: Int64] = [:]
        /// Per account, cap counters as of `seen` (absent: not known; read under the head's lock).
        var caps: [String: [CapKey: Int]] = [:]
        /// Per account, the token this node moved the head to `seen` with (absent: another moved it, or not known):
        /// a head number can be taken twice (a transaction counted before its COMMIT, which then failed, and
        /// another's), a token never is, so memory decides only at a head it knows it made.
        var tokens: [String: Int64] = [:]
        var complete = true
        /// Until when `send_counts` (counted by versions before the log) may hold a send that counts; max: unknown.
        var legacyUntil = Int64.max
        /// Changed when memory is emptied: a read of the log begun before it must not count into the new memory
        /// (it would skip the rows before it).
        var generation = 0
        /// Per account, this node's transactions counted before their COMMIT whose outcome is not known yet (kept
        /// when memory is emptied).
        var tentative: [String: Int] = [:]
    }

    private let state: Mutex<State>

    init(capacity: Int) {
        state = Mutex(State(memory: SendMemory(capacity: capacity)))
    }

    /// Memory's generation, and the last row counted for each of `accounts` (0 for one not read yet).
    func seen(_ accounts: [String]) -> (generation: Int, seqs: [Int64]) {
        state.withLock { s in (s.generation, accounts.map { s.seen[$0] ?? 0 }) }
    }

    /// Counts the `send_log` rows of `accounts` read past `seen(accounts)` in `generation` (committed, in `seq`
    /// order per account) that are not counted yet. False when memory was emptied meanwhile (nothing counted).
    @discardableResult
    func apply(_ rows: [LogRow], reading accounts: [String], generation: Int, forgetMs: Int64) -> Bool {
        state.withLock { s in
            guard s.generation == generation else { return false }
            for a in accounts where s.seen[a] == nil { s.seen[a] = 0 }
            for row in rows where row.seq > s.seen[row.account] ?? 0 {
                s.seen[row.account] = row.seq
                s.tokens[row.account] = nil
                // Another node's transaction: its cap parts are not in the log, so the counters held are stale
                // (`fast` would decide against them at the new head); read again under the next group's lock.
                s.caps[row.account] = nil
                Self.count(row, &s, forgetMs: forgetMs)
            }
            return true
        }
    }

    /// Under the heads' locks, once the rows past `seen` were applied: every row before each account's new head
    /// (`heads`, taken by this transaction) is in memory, and `caps` are its cap counters as committed.
    func settle(heads: [String: Int64], caps: [String: [CapKey: Int]], legacyUntil: Int64, generation: Int) {
        state.withLock { s in
            guard s.generation == generation else { return }
            s.legacyUntil = legacyUntil
            for (account, head) in heads {
                guard let seen = s.seen[account], seen < head - 1 else { continue }
                s.seen[account] = head - 1
                s.tokens[account] = nil
                // Transactions without a log row moved the head since (cap parts only, maybe to a country this
                // group does not send to): counters it did not read are stale.
                s.caps[account] = nil
            }
            for (account, counters) in caps { s.caps[account] = counters }
        }
    }

    /// This node's own transaction after its COMMIT: each account's head moved to `heads[account]`, with its row
    /// (if it counted sends) and the cap parts it added. Counted only where memory was at the head before it;
    /// otherwise a later read brings it (and the account's cap counters are read again).
    func applyOwn(
        _ rows: [LogRow],
        heads: [String: Int64],
        token: Int64,
        parts: [String: [CapKey: (end: Int64, parts: Int)]],
        generation: Int,
        forgetMs: Int64
    ) {
        state.withLock { s in
            guard s.generation == generation else { return }
            for (account, head) in heads {
                guard s.seen[account] == head - 1 else {
                    s.caps[account] = nil
                    s.tokens[account] = nil
                    continue
                }
                s.seen[account] = head
                s.tokens[account] = token
                for row in rows where row.account == account { Self.count(row, &s, forgetMs: forgetMs) }
                for (key, added) in parts[account] ?? [:] where s.caps[account]?[key] != nil {
                    s.caps[account]?[key]? += added.parts
                }
            }
        }
    }

    /// What a group of `account` alone needs to be decided in memory: the head memory is at, the sends to
    /// `recipients` and the counters of `capKeys`; nil when memory cannot tell (not complete, not read, a counter
    /// not known, or older sends may still count in `send_counts`).
    func fast(
        account: String,
        recipients: Set<String>,
        capKeys: Set<CapKey>,
        since sinceMs: Int64,
        nowMs: Int64
    ) -> (generation: Int, head: Int64, token: Int64, history: [String: [LimitedSend]], caps: [CapKey: Int])? {
        state.withLock { s in
            guard s.complete, s.legacyUntil <= nowMs, let head = s.seen[account], head > 0,
                let token = s.tokens[account]
            else { return nil }
            var caps: [CapKey: Int] = [:]
            for key in capKeys {
                guard let n = s.caps[account]?[key] else { return nil }
                caps[key] = n
            }
            var history: [String: [LimitedSend]] = [:]
            if let slot = s.memory.slot(of: account) {
                for to in recipients {
                    let sends = s.memory.sends(slot: slot, recipient: to, after: sinceMs)
                    if !sends.isEmpty { history[to] = sends }
                }
            }
            return (s.generation, head, token, history, caps)
        }
    }

    private static func count(_ row: LogRow, _ s: inout State, forgetMs: Int64) {
        guard s.complete else { return }
        let slot = s.memory.slotMaking(row.account)
        LimitMemory.decode(row.sends) { recipient, packed in
            guard SendMemory.atMs(packed) > forgetMs, s.complete else { return }
            if !s.memory.add(slot: slot, recipient: recipient, packed: packed, forgetMs: forgetMs) {
                s.complete = false
            }
        }
    }

    /// The sends after `sinceMs` to each of `recipients` of `account`, by recipient; nil when memory is not complete
    /// or not of `generation` (the log must be read instead).
    func history(
        account: String,
        recipients: [String],
        since sinceMs: Int64,
        generation: Int
    ) -> [String: [LimitedSend]]? {
        state.withLock { s in
            guard s.complete, s.generation == generation else { return nil }
            var out: [String: [LimitedSend]] = [:]
            guard let slot = s.memory.slot(of: account) else { return out }
            for to in recipients {
                let sends = s.memory.sends(slot: slot, recipient: to, after: sinceMs)
                if !sends.isEmpty { out[to] = sends }
            }
            return out
        }
    }

    /// Empties memory (a group counted before its COMMIT rolled back): every account is read again from the log.
    func reset() {
        state.withLock { s in
            s = State(
                memory: SendMemory(capacity: s.memory.capacity),
                generation: s.generation + 1,
                tentative: s.tentative
            )
        }
    }

    /// A transaction of `accounts` is about to be counted before its COMMIT.
    func beginTentative(_ accounts: some Sequence<String>) {
        state.withLock { s in for a in accounts { s.tentative[a, default: 0] += 1 } }
    }

    /// Its outcome is known (committed, or rolled back and memory emptied).
    func endTentative(_ accounts: some Sequence<String>) {
        state.withLock { s in
            for a in accounts {
                let n = (s.tentative[a] ?? 1) - 1
                s.tentative[a] = n > 0 ? n : nil
            }
        }
    }

    /// Waits until no transaction of `accounts` counted before its COMMIT is unresolved. Called once the heads are
    /// locked: PostgreSQL has then finished that transaction either way, and its task is about to say which (a
    /// rollback empties memory, which a decision must not be taken on before).
    func waitForTentative(_ accounts: [String]) async {
        while state.withLock({ s in accounts.contains { s.tentative[$0] != nil } }) {
            try? await Task.sleep(for: .milliseconds(1))
        }
    }

    /// Forgets sends at or before `beforeMs`, a shard at a time (accepts wait for one shard, not all), and the cap
    /// counters (read again under the next group's lock). Memory that is not complete is emptied instead, to be
    /// read again from the log (which the prune shortens) at the next use of each account. Returns how many sends
    /// were forgotten.
    func sweep(before beforeMs: Int64) -> Int {
        let emptied = state.withLock { s -> Int? in
            s.caps = [:]
            s.legacyUntil = .max
            guard !s.complete else { return nil }
            let n = s.memory.count
            s = State(memory: SendMemory(capacity: s.memory.capacity), generation: s.generation + 1)
            return n
        }
        if let emptied { return emptied }
        var n = 0
        for shard in 0..<SendMemory.shardCount {
            n += state.withLock { $0.memory.sweep(shard: shard, before: beforeMs) }
        }
        return n
    }
}
