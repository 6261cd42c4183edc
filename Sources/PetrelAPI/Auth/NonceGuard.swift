import Crypto
public import PetrelStore
import Synchronization

/// Remembers signature nonces so each is accepted once. Memory holds a 64-bit digest of key and nonce until the
/// request's timestamp window closes; the store persists the same digests, and `warm` reloads them at start.
public final class NonceGuard: Sendable {
    private struct State {
        var expiries: [Int64: Int64] = [:]
        var nextSweepMs: Int64 = 0
    }

    private let state = Mutex(State())

    public init() {}

    public static func digest(accessKeyId: String, nonce: String) -> Int64 {
        let hash = SHA256.hash(data: Array((accessKeyId + "\n" + nonce).utf8))
        var value: Int64 = 0
        for byte in hash.prefix(8) { value = value << 8 | Int64(byte) }
        return value
    }

    /// Records the nonce; false if it was seen before and is still remembered.
    public func claim(_ digest: Int64, expiresAtMs: Int64, nowMs: Int64) -> Bool {
        state.withLock { s in
            if nowMs >= s.nextSweepMs {
                s.expiries = s.expiries.filter { $0.value >= nowMs }
                s.nextSweepMs = nowMs + 60_000
            }
            if let expiry = s.expiries[digest], expiry >= nowMs { return false }
            s.expiries[digest] = expiresAtMs
            return true
        }
    }

    public func warm(_ records: [NonceRecord]) {
        state.withLock { s in
            for r in records { s.expiries[r.hash] = max(s.expiries[r.hash] ?? 0, r.expiresAtMs) }
        }
    }

    public var count: Int { state.withLock { $0.expiries.count } }
}
