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

    /// Shards by the recipient's last two digits: a sweep takes one shard at a time, so it never holds the writer
    /// for the whole index.
    static let shardCount = 100
    private(set) var shards: [[Key: Sends]] = Array(repeating: [:], count: shardCount)
    /// Sends held.
    private(set) var count = 0
    let capacity: Int

    init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    static func shard(_ recipient: String) -> Int {
        var n = 0
        for b in recipient.utf8.suffix(2) { n = n * 10 + Int(b % 10) }
        return n
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

    /// The sends to `recipient` of `account` after `sinceMs`, in no particular order.
    func sends(account: String, recipient: String, after sinceMs: Int64) -> [LimitedSend] {
        guard let s = shards[Self.shard(recipient)][Key(account: account, recipient: recipient)] else { return [] }
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
        let key = Key(account: account, recipient: recipient)
        let shard = Self.shard(recipient)
        if var s = shards[shard][key] {
            if Self.atMs(s.first) <= forgetMs || s.more.contains(where: { Self.atMs($0) <= forgetMs }) {
                let kept = Self.keep(s, after: forgetMs)
                count -= 1 + s.more.count - (kept.map { 1 + $0.more.count } ?? 0)
                guard let kept else {
                    shards[shard][key] = nil
                    return add(account: account, recipient: recipient, packed: packed, forgetMs: forgetMs)
                }
                s = kept
            }
            let room = count < capacity
            if room {
                s.more.append(packed)
                count += 1
            }
            shards[shard][key] = s
            return room
        }
        guard count < capacity else { return false }
        shards[shard][key] = Sends(first: packed)
        count += 1
        return true
    }

    /// Forgets the sends of one shard at or before `beforeMs`; returns how many.
    mutating func sweep(shard: Int, before beforeMs: Int64) -> Int {
        guard shards.indices.contains(shard) else { return 0 }
        var forgotten = 0
        shards[shard] = shards[shard].compactMapValues { s in
            let kept = Self.keep(s, after: beforeMs)
            forgotten += 1 + s.more.count - (kept.map { 1 + $0.more.count } ?? 0)
            return kept
        }
        count -= forgotten
        return forgotten
    }

    /// Every send held, in no particular order.
    func eachSend(_ body: (Key, UInt64) -> Void) {
        for shard in shards {
            for (key, s) in shard {
                body(key, s.first)
                for p in s.more { body(key, p) }
            }
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
