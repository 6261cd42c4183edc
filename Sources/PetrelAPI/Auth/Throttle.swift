import Synchronization

/// Per-key, per-action QPS limits: a token bucket per (key, action) holding at most one second of tokens.
public final class Throttle: Sendable {
    /// Requests per second by action name; `*` applies to actions not listed. 0 or absent means unlimited.
    public let limits: [String: Double]

    private struct Bucket {
        var tokens: Double
        var lastMs: Int64
    }

    private let buckets = Mutex<[String: Bucket]>([:])
    /// Live nodes sharing the store: each takes its share of every limit.
    private let nodes = Atomic<Int>(1)

    public func setNodes(_ n: Int) { nodes.store(max(1, n), ordering: .relaxed) }

    public init(limits: [String: Double]) {
        self.limits = limits
    }

    /// Nil when the call may go ahead, else the milliseconds until it could.
    public func acquire(key: String, action: String, nowMs: Int64) -> Int? {
        guard let limit = limits[action] ?? limits["*"], limit > 0 else { return nil }
        let qps = limit / Double(nodes.load(ordering: .relaxed))
        return buckets.withLock { buckets in
            let id = key + "\n" + action
            var b = buckets[id] ?? Bucket(tokens: max(qps, 1), lastMs: nowMs)
            b.tokens = min(max(qps, 1), b.tokens + Double(nowMs - b.lastMs) * qps / 1000)
            b.lastMs = nowMs
            defer { buckets[id] = b }
            if b.tokens >= 1 {
                b.tokens -= 1
                return nil
            }
            return Int(((1 - b.tokens) * 1000 / qps).rounded(.up))
        }
    }
}
