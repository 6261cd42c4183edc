import Foundation
import GRDB
import GRDBSQLite
import PetrelCore
import Synchronization

/// What the SQLite store's accepts under limits need, kept in memory: the sends counted per number
/// (`SendMemory`), the cap counters, and what a transaction adds until it commits. Changes of one group-commit
/// transaction are written once, just before its COMMIT (`beforeCommit`): one `send_log` row per account, one
/// upsert per cap counter and guard bucket, however many messages the group held. They are taken back from memory
/// if it rolls back.
///
/// Used on the writer thread (inside `GroupCommitter` transactions), except `sends(...)`, which a campaign preview
/// reads from any thread: hence the lock.
final class LimitMemory: Sendable, TransactionHooks {
    struct Pending {
        /// Sends were added to memory (a rollback unloads it; it is read again from the log, which the rollback
        /// left as it was: rare, and cheaper than remembering each send to take it back).
        var counted = false
        /// `send_log` blobs by account, and the latest send in each.
        var log: [String: (at: Int64, bytes: [UInt8])] = [:]
        var caps: [String: [CapKey: (end: Int64, parts: Int)]] = [:]
        var pumping: [String: [PumpingBucket: Int]] = [:]
        /// Memory was loaded in this transaction (a rollback unloads it: it may hold rows the rollback undid).
        var loaded = false

        var isEmpty: Bool { !counted && log.isEmpty && caps.isEmpty && pumping.isEmpty && !loaded }
    }

    struct State {
        var memory: SendMemory
        var loaded = false
        /// Sends counted on disk (`send_counts`: memory was full, or counted by an older version) may count until
        /// then: until then each check also reads the disk.
        var diskUntilMs: Int64 = 0
        /// Committed cap counters read so far, by account.
        var caps: [String: [CapKey: Int]] = [:]
        var pending = Pending()
        /// What `SendMemory.prefetch` read (kept only so that its reads happen).
        var prefetched: UInt64 = 0
    }

    private let state: Mutex<State>

    init(capacity: Int) {
        state = Mutex(State(memory: SendMemory(capacity: capacity)))
    }

    var isLoaded: Bool { state.withLock { $0.loaded } }

    // MARK: On the writer thread, inside a transaction

    /// Reads the day's counted sends from `send_log` (and when `send_counts` may still count) once.
    func load(_ db: Database, nowMs: Int64) throws {
        guard !isLoaded else { return }
        let since = nowMs - NumberLimits.horizonMs
        var memory = SendMemory(capacity: state.withLock { $0.memory.capacity })
        var spilled: [(account: String, recipient: String, packed: UInt64)] = []
        let rows = try Row.fetchCursor(db, sql: "SELECT account, sends FROM send_log WHERE at > ?", arguments: [since])
        while let row = try rows.next() {
            let account: String = row[0]
            let bytes: Data = row[1]
            Self.decode([UInt8](bytes)) { recipient, packed in
                guard SendMemory.atMs(packed) > since else { return }
                if !memory.add(account: account, recipient: recipient, packed: packed, forgetMs: since) {
                    spilled.append((account, recipient, packed))
                }
            }
        }
        // A smaller `limits.trackedSends` than when they were counted: the rest is counted on disk, and the log is
        // written again with what memory holds (else the next start would count the spilled sends twice).
        if !spilled.isEmpty {
            for s in spilled {
                guard let send = SendMemory.unpack(s.packed) else { continue }
                try Self.countOnDisk(account: s.account, recipient: s.recipient, send, db)
            }
            var log: [String: (at: Int64, bytes: [UInt8])] = [:]
            memory.eachSend { key, packed in
                var entry = log[key.account] ?? (at: 0, bytes: [])
                entry.at = max(entry.at, SendMemory.atMs(packed))
                Self.encode(key.recipient.utf8, packed, into: &entry.bytes)
                log[key.account] = entry
            }
            try db.execute(sql: "DELETE FROM send_log")
            try Self.insertLog(log, db)
        }
        let onDisk = try Int64.fetchOne(db, sql: "SELECT max(at) FROM send_counts") ?? 0
        state.withLock {
            $0.memory = memory
            $0.loaded = true
            $0.diskUntilMs = onDisk > since ? onDisk + NumberLimits.horizonMs : 0
            $0.pending.loaded = true
        }
    }

    /// The sends counted after `since` to each of `recipients` (digits; "" for none) of `account`, aligned with them.
    func history(
        account: String,
        recipients: [String],
        since: Int64,
        nowMs: Int64,
        _ db: Database
    ) throws -> [[LimitedSend]] {
        var history = [[LimitedSend]](repeating: [], count: recipients.count)
        let disk = state.withLock { s in
            if let slot = s.memory.slot(of: account) {
                if recipients.count > 1 { s.prefetched ^= s.memory.prefetch(slot: slot, recipients) }
                for (i, to) in recipients.enumerated() where !to.isEmpty {
                    history[i] = s.memory.sends(slot: slot, recipient: to, after: since)
                }
            }
            return s.diskUntilMs > nowMs
        }
        guard disk else { return history }
        let select = try db.cachedStatement(
            sql: "SELECT type, at FROM send_counts WHERE account = ? AND recipient = ? AND at > ?"
        )
        for (i, to) in recipients.enumerated() where !to.isEmpty {
            try FastStatement.query(
                select,
                db,
                {
                    $0.bind(account)
                    $0.bind(to)
                    $0.bind(since)
                },
                row: { row in
                    let type = String(cString: sqlite3_column_text(row, 0))
                    if let type = MessageType(rawValue: type) {
                        history[i].append(LimitedSend(type: type, atMs: sqlite3_column_int64(row, 1)))
                    }
                }
            )
        }
        return history
    }

    /// The parts counted so far (committed and earlier in this transaction) on each of `keys` of `account`.
    func capsUsed(account: String, keys: Set<CapKey>, _ db: Database) throws -> [CapKey: Int] {
        let keys = Array(keys)
        return Dictionary(uniqueKeysWithValues: zip(keys, try capsUsed(account: account, slots: keys, db)))
    }

    /// `capsUsed` for distinct `slots`, in their order (no dictionary made: a single's check asks this every time).
    func capsUsed(account: String, slots: [CapKey], _ db: Database) throws -> [Int] {
        var used = [Int](repeating: 0, count: slots.count)
        var missing: [Int] = []
        state.withLock { s in
            // The account's counters looked up once, not once per key.
            let committed = s.caps[account]
            let pending = s.pending.caps[account]
            for (i, k) in slots.enumerated() {
                if let n = committed?[k] {
                    used[i] = n + (pending?[k]?.parts ?? 0)
                } else {
                    missing.append(i)
                }
            }
        }
        guard !missing.isEmpty else { return used }
        // Cap counters are written only before COMMIT, so what the table holds here is what was committed.
        let read = try db.cachedStatement(
            sql: "SELECT parts FROM cap_counts WHERE account = ? AND country = ? AND span = ? AND start = ?"
        )
        var read_: [(Int, Int)] = []
        for i in missing {
            let k = slots[i]
            read_.append((i, try Int.fetchOne(read, arguments: [account, k.country, k.window.rawValue, k.start]) ?? 0))
        }
        state.withLock { s in
            for (i, n) in read_ {
                let k = slots[i]
                s.caps[account, default: [:]][k] = n
                used[i] = n + (s.pending.caps[account]?[k]?.parts ?? 0)
            }
        }
        return used
    }

    /// Counts what `outcome` kept: its sends (in memory, or on disk when memory is full), cap parts and guard sends.
    func record(
        account: String,
        _ outcome: SendLimitCheck.Outcome,
        of messages: [Message],
        nowMs: Int64,
        _ db: Database
    ) throws {
        let forget = nowMs - NumberLimits.horizonMs
        var spilled: [Message] = []
        var bytes: [UInt8] = []
        bytes.reserveCapacity(outcome.counted.count * 24)
        var latest: Int64 = 0
        state.withLock { s in
            let slot = outcome.counted.isEmpty ? 0 : s.memory.slotMaking(account)
            // Fields read in place (a copy of each Message retained and released its ten strings).
            for i in outcome.counted {
                let to = messages[i].to
                let at = messages[i].createdAtMs
                let packed = SendMemory.pack(messages[i].type, at)
                guard to.utf8.count <= 255, s.memory.add(slot: slot, recipient: to, packed: packed, forgetMs: forget)
                else {
                    spilled.append(messages[i])
                    continue
                }
                latest = max(latest, at)
                Self.encode(to.utf8, packed, into: &bytes)
            }
            if !bytes.isEmpty {
                s.pending.counted = true
                // In place: the account's blob grows (a copy out and back would copy it whole).
                s.pending.log[account, default: (at: 0, bytes: [])].at = max(s.pending.log[account]?.at ?? 0, latest)
                s.pending.log[account, default: (at: 0, bytes: [])].bytes.append(contentsOf: bytes)
            }
            for (k, v) in outcome.parts {
                s.pending.caps[account, default: [:]][k, default: (v.end, 0)].parts += v.parts
            }
            for (b, n) in outcome.guarded { s.pending.pumping[account, default: [:]][b, default: 0] += n }
            if let last = spilled.map(\.createdAtMs).max() {
                s.diskUntilMs = max(s.diskUntilMs, last + NumberLimits.horizonMs)
            }
        }
        for m in spilled {
            try Self.countOnDisk(account: account, recipient: m.to, LimitedSend(type: m.type, atMs: m.createdAtMs), db)
        }
    }

    // MARK: TransactionHooks

    func beforeCommit(_ db: Database) throws {
        let pending = state.withLock { s -> Pending? in s.pending.isEmpty ? nil : s.pending }
        guard let pending else { return }
        try Self.insertLog(pending.log, db)
        if !pending.caps.isEmpty {
            let add = try db.cachedStatement(
                sql: """
                    INSERT INTO cap_counts (account, country, span, start, ends, parts) VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (account, country, span, start) DO UPDATE SET parts = parts + excluded.parts
                    """
            )
            for (account, counters) in pending.caps {
                for (k, v) in counters {
                    try add.execute(arguments: [account, k.country, k.window.rawValue, k.start, v.end, v.parts])
                }
            }
        }
        for (account, buckets) in pending.pumping { try SQLiteStore.addPumpingSends(account, buckets, db) }
    }

    func afterCommit() {
        state.withLock { s in
            guard !s.pending.isEmpty else { return }
            for (account, counters) in s.pending.caps {
                // Only onto counters already read: one not in the cache is read from the table, which has them.
                for (k, v) in counters where s.caps[account]?[k] != nil { s.caps[account]?[k]? += v.parts }
            }
            s.pending = Pending()
        }
    }

    func afterRollback() {
        state.withLock { s in
            guard !s.pending.isEmpty else { return }
            if s.pending.loaded || s.pending.counted {
                s.memory = SendMemory(capacity: s.memory.capacity)
                s.loaded = false
                s.diskUntilMs = 0
            }
            s.pending = Pending()
        }
    }

    // MARK: Upkeep

    /// Forgets sends at or before `beforeMs` in one shard of memory, and cap counters whose period ended.
    func sweep(shard: Int, before beforeMs: Int64) -> Int {
        state.withLock { s in
            // The cap cache is only a copy of committed rows: dropped whole once a sweep (counters of ended periods
            // go with it), read again on the next accept.
            if shard == 0 { s.caps = [:] }
            return s.memory.sweep(shard: shard, before: beforeMs)
        }
    }

    /// The sends in memory counted after `sinceMs` for `recipients` of `account` (nil when memory is not loaded),
    /// and whether the disk must be read too.
    func counted(
        account: String,
        recipients: [String],
        sinceMs: Int64,
        nowMs: Int64
    )
        -> (sends: [String: [LimitedSend]], disk: Bool)?
    {
        state.withLock { s in
            guard s.loaded else { return nil }
            var out: [String: [LimitedSend]] = [:]
            for to in recipients {
                let sends = s.memory.sends(account: account, recipient: to, after: sinceMs)
                if !sends.isEmpty { out[to] = sends }
            }
            return (out, s.diskUntilMs > nowMs)
        }
    }

    // MARK: On disk

    static func insertLog(_ log: [String: (at: Int64, bytes: [UInt8])], _ db: Database) throws {
        guard !log.isEmpty else { return }
        let insert = try db.cachedStatement(sql: "INSERT INTO send_log (at, account, sends) VALUES (?, ?, ?)")
        for (account, entry) in log { try insert.execute(arguments: [entry.at, account, Data(entry.bytes)]) }
    }

    static func countOnDisk(account: String, recipient: String, _ send: LimitedSend, _ db: Database) throws {
        try db.cachedStatement(sql: "INSERT INTO send_counts (account, recipient, type, at) VALUES (?, ?, ?, ?)")
            .execute(arguments: [account, recipient, send.type.rawValue, send.atMs])
    }

    /// A `send_log` blob: per send, the recipient's length (one byte) and digits, then the packed send (8 bytes,
    /// little-endian).
    static func encode(_ digits: some Collection<UInt8>, _ packed: UInt64, into bytes: inout [UInt8]) {
        bytes.append(UInt8(truncatingIfNeeded: digits.count))
        // A string's UTF-8 is usually contiguous: one copy, not a byte at a time.
        if digits.withContiguousStorageIfAvailable({ bytes.append(contentsOf: $0) }) == nil {
            bytes.append(contentsOf: digits)
        }
        withUnsafeBytes(of: packed.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// Calls `each` for every send of a blob; stops at the first malformed one.
    static func decode(_ bytes: [UInt8], _ each: (String, UInt64) -> Void) {
        var i = 0
        while i < bytes.count {
            let n = Int(bytes[i])
            guard i + 1 + n + 8 <= bytes.count else { return }
            let recipient = String(decoding: bytes[(i + 1)..<(i + 1 + n)], as: UTF8.self)
            var packed: UInt64 = 0
            for j in 0..<8 { packed |= UInt64(bytes[i + 1 + n + j]) << (8 * j) }
            each(recipient, packed)
            i += 1 + n + 8
        }
    }
}

/// Work a `GroupCommitter` does around each transaction, on its writer thread.
protocol TransactionHooks: Sendable {
    /// Last writes of the transaction, before COMMIT (a throw rolls it back).
    func beforeCommit(_ db: Database) throws
    func afterCommit()
    func afterRollback()
}
