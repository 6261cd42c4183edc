import Crypto
public import PetrelStore
import Synchronization

/// Remembers signature nonces so each is accepted once. Memory holds a 64-bit digest of key and nonce until the
/// request's timestamp window closes; the store persists the same digests, and `warm` reloads them at start.
///
/// Digests are filed by the minute their memory ends, so forgetting is a few buckets at a time, never a sweep
/// of the whole set while requests wait. A digest may be kept up to a minute longer than needed, which is
/// harmless: by then its request's timestamp is outside the window anyway.
public final class NonceGuard: Sendable {
    private struct State {
        var live = Set<Int64>()
        var byMinute: [Int64: [Int64]] = [:]
        var oldestMinute = Int64.max
    }

    private let state = Mutex(State())
    /// Removals done per call at most, so a backlog of expired digests is shed gradually.
    private let sweepBudget = 4096

    public init() {}

    public static func digest(accessKeyId: String, nonce: String) -> Int64 {
        var sha = SHA256()
        var id = accessKeyId
        var nonce = nonce
        id.withUTF8 { sha.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        withUnsafeBytes(of: UInt8(ascii: "\n")) { sha.update(bufferPointer: $0) }
        nonce.withUTF8 { sha.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        let hash = sha.finalize()
        var value: Int64 = 0
        for byte in hash.prefix(8) { value = value << 8 | Int64(byte) }
        return value
    }

    /// Records the nonce; false if it was seen before and is still remembered.
    public func claim(_ digest: Int64, expiresAtMs: Int64, nowMs: Int64) -> Bool {
        state.withLock { s in
            sweep(&s, nowMs: nowMs)
            guard s.live.insert(digest).inserted else { return false }
            file(&s, digest, expiresAtMs)
            return true
        }
    }

    public func warm(_ records: [NonceRecord]) {
        state.withLock { s in
            for r in records where s.live.insert(r.hash).inserted { file(&s, r.hash, r.expiresAtMs) }
        }
    }

    public var count: Int { state.withLock { $0.live.count } }

    private func file(_ s: inout State, _ digest: Int64, _ expiresAtMs: Int64) {
        let minute = expiresAtMs / 60_000 + 1
        s.byMinute[minute, default: []].append(digest)
        s.oldestMinute = min(s.oldestMinute, minute)
    }

    private func sweep(_ s: inout State, nowMs: Int64) {
        let current = nowMs / 60_000
        var budget = sweepBudget
        while s.oldestMinute <= current, budget > 0 {
            guard var bucket = s.byMinute[s.oldestMinute] else {
                s.oldestMinute = s.byMinute.keys.min() ?? .max
                continue
            }
            while budget > 0, let d = bucket.popLast() {
                s.live.remove(d)
                budget -= 1
            }
            if bucket.isEmpty {
                s.byMinute[s.oldestMinute] = nil
                s.oldestMinute = s.byMinute.keys.min() ?? .max
            } else {
                s.byMinute[s.oldestMinute] = bucket
            }
        }
    }
}
