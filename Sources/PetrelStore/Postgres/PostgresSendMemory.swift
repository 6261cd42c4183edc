import PetrelCore
import Synchronization

/// The sends `limits.perNumber` counted in the last day, held in this node's memory, and kept exact across the
/// nodes of one database by a shared log.
///
/// Each limited transaction appends one `send_log` row per account (its counted sends packed in one blob, as the
/// SQLite store writes them) while it holds the account's advisory lock. Before it decides, it reads the rows of
/// its accounts appended since the last one this node has seen (`seen`): the other nodes' sends. The lock makes an
/// account's rows commit in `seq` order, so reading past `seen` misses none. The decision then reads memory, not an
/// index probe per recipient (which held batches to a tenth of the unlimited rate). This node's own row is added
/// after COMMIT, unless a later read of the log already added it (the same `seq`): each row counts once.
///
/// Bounded by `capacity` sends. When a row does not fit, memory is no longer complete: until the next sweep
/// empties it (to be read again from the log), checks read the log on the database (exact, slow).
final class PostgresSendMemory: Sendable {
    typealias LogRow = (seq: Int64, account: String, sends: [UInt8])

    struct State {
        var memory: SendMemory
        /// Per account, the last `send_log` row counted in memory (absent: none read yet; read from the start).
        var seen: [String: Int64] = [:]
        var complete = true
        /// Changed when memory is emptied: a read of the log begun before it must not count into the new memory
        /// (it would skip the rows before it).
        var generation = 0
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
            Self.count(rows, &s, forgetMs: forgetMs)
            return true
        }
    }

    /// Counts this node's own rows after their COMMIT, onto accounts whose log was read (in `generation`); a row a
    /// later read already counted is skipped, and an account emptied meanwhile reads it from the log.
    func applyOwn(_ rows: [LogRow], generation: Int, forgetMs: Int64) {
        state.withLock { s in
            guard s.generation == generation else { return }
            Self.count(rows.filter { s.seen[$0.account] != nil }, &s, forgetMs: forgetMs)
        }
    }

    private static func count(_ rows: [LogRow], _ s: inout State, forgetMs: Int64) {
        for row in rows where row.seq > s.seen[row.account] ?? 0 {
            s.seen[row.account] = row.seq
            guard s.complete else { continue }
            let slot = s.memory.slotMaking(row.account)
            LimitMemory.decode(row.sends) { recipient, packed in
                guard SendMemory.atMs(packed) > forgetMs, s.complete else { return }
                if !s.memory.add(slot: slot, recipient: recipient, packed: packed, forgetMs: forgetMs) {
                    s.complete = false
                }
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

    /// Forgets sends at or before `beforeMs`, a shard at a time (accepts wait for one shard, not all). Memory that
    /// is not complete is emptied instead, to be read again from the log (which the prune shortens) at the next use
    /// of each account. Returns how many sends were forgotten.
    func sweep(before beforeMs: Int64) -> Int {
        let emptied = state.withLock { s -> Int? in
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
