import PetrelCore

/// The sends `limits.perNumber` counted in the last day, per account and recipient, held in memory. SQLite has one
/// writer in one serving process, so memory is exact there. With memory, an accept under limits reads and writes
/// no index page per recipient. The on-disk index cost a random page per message and held batches to a fifth of
/// the unlimited rate. Bounded by `capacity` sends; beyond it the store counts on disk (`send_counts`), which is
/// slower and still exact.
struct SendMemory {
    struct Key: Hashable {
        var account: String
        var recipient: String
    }

    /// A number's sends, each packed as `type << 56 | at`. Most numbers have one, kept inline (no allocation).
    struct Sends {
        var first: UInt64
        var more: [UInt64] = []
    }

    /// One account's numbers: shards by the number's last two digits (a sweep takes one shard at a time, so it never
    /// holds the writer for the whole index), each keyed by the number as an integer (`numberKey`: hashing a
    /// string cost more than the rest of a lookup) in a flat table (`NumberTable`). A recipient that is not a number
    /// of up to 17 digits (never from the API, which stores digits) is keyed by its text.
    struct Numbers {
        var shards: [NumberTable] = Array(repeating: NumberTable(), count: SendMemory.shardCount)
        var other: [String: Sends] = [:]
    }

    static let shardCount = 100
    /// By account: an array indexed by the account's slot (resolved once per batch, not hashed per message).
    private(set) var accounts: [Numbers] = []
    private(set) var names: [String] = []
    private var slots: [String: Int] = [:]
    /// Sends held.
    private(set) var count = 0
    let capacity: Int

    init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    /// The digits as an integer with their count in the top bits ("0123" and "123" differ); nil for anything else.
    static func numberKey(_ recipient: String) -> UInt64? {
        var value: UInt64 = 0
        var n: UInt64 = 0
        for b in recipient.utf8 {
            guard b >= 48, b <= 57, n < 17 else { return nil }
            value = value &* 10 &+ UInt64(b - 48)
            n += 1
        }
        return n == 0 ? nil : n << 57 | value
    }

    static func recipient(_ key: UInt64) -> String {
        let digits = Int(key >> 57)
        let text = String(key & ((1 << 57) - 1))
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }

    static func shard(_ key: UInt64) -> Int { Int((key & ((1 << 57) - 1)) % 100) }

    /// The account's slot, nil when memory holds nothing of it.
    func slot(of account: String) -> Int? { slots[account] }

    mutating func slotMaking(_ account: String) -> Int {
        if let slot = slots[account] { return slot }
        slots[account] = accounts.count
        names.append(account)
        accounts.append(Numbers())
        return accounts.count - 1
    }

    private func find(_ slot: Int, _ recipient: String) -> Sends? {
        guard let key = Self.numberKey(recipient) else { return accounts[slot].other[recipient] }
        return accounts[slot].shards[Self.shard(key)][key]
    }

    // MARK: Packing

    private static let atMask: UInt64 = (1 << 56) - 1

    static func pack(_ type: MessageType, _ atMs: Int64) -> UInt64 {
        UInt64(code(type)) << 56 | UInt64(max(0, atMs)) & atMask
    }

    static func atMs(_ packed: UInt64) -> Int64 { Int64(packed & atMask) }

    static func unpack(_ packed: UInt64) -> LimitedSend? {
        type(code: UInt8(packed >> 56)).map { LimitedSend(type: $0, atMs: atMs(packed)) }
    }

    /// Stable one-byte codes (also in `send_log`'s blobs on disk): never renumber.
    static func code(_ type: MessageType) -> UInt8 {
        switch type {
        case .otp: return 1
        case .notify: return 2
        case .mkt: return 3
        }
    }

    static func type(code: UInt8) -> MessageType? {
        switch code {
        case 1: return .otp
        case 2: return .notify
        case 3: return .mkt
        default: return nil
        }
    }

    // MARK: Reading and writing

    /// Reads the home slots of `recipients`' entries without using them, and returns something of them (for the
    /// caller to keep, so that the reads are not optimized away). With millions of numbers in memory each slot is
    /// a cache miss; a loop that does nothing else lets the processor wait for many misses at once, and the lookups
    /// after it find their slots in the cache.
    func prefetch(slot: Int, _ recipients: [String]) -> UInt64 {
        // The keys first: the loop that reads is then a few instructions a number, so that many of its reads are
        // in flight at once (with the parsing in it, two were).
        var keys: [UInt64] = []
        keys.reserveCapacity(recipients.count)
        for to in recipients {
            if let key = Self.numberKey(to) { keys.append(key) }
        }
        var seen: UInt64 = 0
        let shards = accounts[slot].shards
        for key in keys { seen ^= shards[Self.shard(key)].touch(key) }
        return seen
    }

    /// The sends to `recipient` of `account` after `sinceMs`, in no particular order.
    func sends(account: String, recipient: String, after sinceMs: Int64) -> [LimitedSend] {
        guard let slot = slot(of: account) else { return [] }
        return sends(slot: slot, recipient: recipient, after: sinceMs)
    }

    func sends(slot: Int, recipient: String, after sinceMs: Int64) -> [LimitedSend] {
        guard let s = find(slot, recipient) else { return [] }
        var out: [LimitedSend] = []
        if Self.atMs(s.first) > sinceMs, let send = Self.unpack(s.first) { out.append(send) }
        for p in s.more where Self.atMs(p) > sinceMs {
            if let send = Self.unpack(p) { out.append(send) }
        }
        return out
    }

    /// Adds a send, first forgetting the number's sends at or before `forgetMs`; false (nothing added) when memory
    /// holds `capacity` sends.
    mutating func add(account: String, recipient: String, packed: UInt64, forgetMs: Int64) -> Bool {
        add(slot: slotMaking(account), recipient: recipient, packed: packed, forgetMs: forgetMs)
    }

    mutating func add(slot: Int, recipient: String, packed: UInt64, forgetMs: Int64) -> Bool {
        var held = count
        let capacity = capacity
        defer { count = held }
        guard let key = Self.numberKey(recipient) else {
            var s = accounts[slot].other[recipient]
            defer { accounts[slot].other[recipient] = s }
            return Self.add(&s, packed, forgetMs: forgetMs, held: &held, capacity: capacity)
        }
        // One probe: the number's entry is read, changed and written back in place.
        return accounts[slot].shards[Self.shard(key)].update(key) {
            Self.add(&$0, packed, forgetMs: forgetMs, held: &held, capacity: capacity)
        }
    }

    /// Adds a send to a number's sends (nil: none yet), first forgetting those at or before `forgetMs`; false when
    /// `held` (the sends in memory) reached `capacity`.
    private static func add(
        _ s: inout Sends?,
        _ packed: UInt64,
        forgetMs: Int64,
        held: inout Int,
        capacity: Int
    ) -> Bool {
        if let current = s, atMs(current.first) <= forgetMs || current.more.contains(where: { atMs($0) <= forgetMs }) {
            let kept = keep(current, after: forgetMs)
            held -= 1 + current.more.count - (kept.map { 1 + $0.more.count } ?? 0)
            s = kept
        }
        guard held < capacity else { return false }
        if s == nil {
            s = Sends(first: packed)
        } else {
            s?.more.append(packed)
        }
        held += 1
        return true
    }

    /// Forgets the sends of one shard at or before `beforeMs`; returns how many.
    mutating func sweep(shard: Int, before beforeMs: Int64) -> Int {
        guard (0..<Self.shardCount).contains(shard) else { return 0 }
        var forgotten = 0
        func keep(_ s: Sends) -> Sends? {
            let kept = Self.keep(s, after: beforeMs)
            forgotten += 1 + s.more.count - (kept.map { 1 + $0.more.count } ?? 0)
            return kept
        }
        // (An account's slot stays once made: accounts are few, named by the configuration.)
        for slot in accounts.indices {
            accounts[slot].shards[shard].compactMapValues(keep)
            // Text-keyed recipients go with shard 0.
            if shard == 0 { accounts[slot].other = accounts[slot].other.compactMapValues(keep) }
        }
        count -= forgotten
        return forgotten
    }

    /// Every send held, in no particular order.
    func eachSend(_ body: (Key, UInt64) -> Void) {
        func each(_ account: String, _ recipient: String, _ s: Sends) {
            let key = Key(account: account, recipient: recipient)
            body(key, s.first)
            for p in s.more { body(key, p) }
        }
        for (account, numbers) in zip(names, accounts) {
            for shard in numbers.shards {
                shard.eachEntry { key, s in each(account, Self.recipient(key), s) }
            }
            for (recipient, s) in numbers.other { each(account, recipient, s) }
        }
    }

    /// `s` without the sends at or before `afterMs`; nil when none is left.
    private static func keep(_ s: Sends, after afterMs: Int64) -> Sends? {
        var all = atMs(s.first) > afterMs ? [s.first] : []
        for p in s.more where atMs(p) > afterMs { all.append(p) }
        guard let first = all.first else { return nil }
        return Sends(first: first, more: Array(all.dropFirst()))
    }
}
