import Synchronization

/// Failed sign-ins (console, script sessions, sandbox Basic auth), counted per access key id and per client
/// address. After `free` failures in a row the next attempt must wait 1 s, then 2 s, 4 s … up to `maxLockMs`;
/// an attempt during the wait is refused without looking at the secret. A success clears both counters, and a
/// quiet `forgetMs` forgets them. Each table keeps at most `capacity` entries, so guessed ids cannot grow memory.
final class SignInThrottle: Sendable {
    struct Entry {
        var failures = 0
        var lockedUntilMs: Int64 = 0
        var lastMs: Int64 = 0
    }

    let free: Int
    let maxLockMs: Int64
    let forgetMs: Int64
    let capacity: Int
    private let keys = Mutex<[String: Entry]>([:])
    private let addresses = Mutex<[String: Entry]>([:])

    init(free: Int = 5, maxLockMs: Int64 = 15 * 60_000, forgetMs: Int64 = 3600_000, capacity: Int = 10_000) {
        self.free = free
        self.maxLockMs = maxLockMs
        self.forgetMs = forgetMs
        self.capacity = capacity
    }

    /// Milliseconds `keyId` or `address` must still wait; 0: go ahead.
    func wait(keyId: String, address: String, nowMs: Int64) -> Int64 {
        let k = keys.withLock { $0[keyId].map { $0.lockedUntilMs - nowMs } ?? 0 }
        let a = addresses.withLock { $0[address].map { $0.lockedUntilMs - nowMs } ?? 0 }
        return max(0, k, a)
    }

    func failed(keyId: String, address: String, nowMs: Int64) {
        keys.withLock { fail(&$0, keyId, nowMs) }
        addresses.withLock { fail(&$0, address, nowMs) }
    }

    func succeeded(keyId: String, address: String) {
        _ = keys.withLock { $0.removeValue(forKey: keyId) }
        _ = addresses.withLock { $0.removeValue(forKey: address) }
    }

    var count: (keys: Int, addresses: Int) { (keys.withLock { $0.count }, addresses.withLock { $0.count }) }

    private func fail(_ table: inout [String: Entry], _ name: String, _ nowMs: Int64) {
        if table[name] == nil, table.count >= capacity { evict(&table, nowMs) }
        var e = table[name] ?? Entry()
        if nowMs - e.lastMs > forgetMs { e.failures = 0 }
        e.failures += 1
        e.lastMs = nowMs
        if e.failures >= free {
            let doubling = min(e.failures - free, 30)
            e.lockedUntilMs = nowMs + min(Int64(1000) << doubling, maxLockMs)
        }
        table[name] = e
    }

    /// Forgotten entries go first; if none, the one quiet the longest.
    private func evict(_ table: inout [String: Entry], _ nowMs: Int64) {
        table = table.filter { nowMs - $0.value.lastMs <= forgetMs || $0.value.lockedUntilMs > nowMs }
        if table.count >= capacity, let oldest = table.min(by: { $0.value.lastMs < $1.value.lastMs }) {
            table[oldest.key] = nil
        }
    }
}
