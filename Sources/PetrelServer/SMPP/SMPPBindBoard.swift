import NIOConcurrencyHelpers

/// The binds the SMPP server holds, by connection: admitted under the server's `maxBinds` and each system_id's
/// own, released when their connection goes. Counted per account for /metrics and the console.
public final class SMPPBindBoard: Sendable {
    public struct Entry: Sendable, Equatable {
        public var systemID: String
        public var account: String
        public var canReceive: Bool
        /// The system_id's `--tps`.
        public var tps: Int? = nil
    }

    private let binds = NIOLockedValueBox([UInt64: Entry]())
    /// Token buckets of system_ids with `--tps`, shared by their binds: (tokens, last refill).
    private let buckets = NIOLockedValueBox([String: (tokens: Double, atMs: Int64)]())
    let maxBinds: Int

    public init(maxBinds: Int) {
        self.maxBinds = maxBinds
    }

    public enum Refusal: Equatable, Sendable {
        /// The server holds `maxBinds` binds.
        case serverFull
        /// This system_id holds its own maximum.
        case userFull(Int)
    }

    /// Admits a bind unless a limit is reached.
    func admit(_ entry: Entry, connection: UInt64, userMax: Int?) -> Refusal? {
        binds.withLockedValue { b in
            guard b.count < maxBinds else { return .serverFull }
            if let userMax, b.values.count(where: { $0.systemID == entry.systemID }) >= userMax {
                return .userFull(userMax)
            }
            b[connection] = entry
            return nil
        }
    }

    /// Forgets the connection's bind; returns it.
    func release(connection: UInt64) -> Entry? {
        binds.withLockedValue { $0.removeValue(forKey: connection) }
    }

    /// The account's binds now.
    func count(account: String) -> Int {
        binds.withLockedValue { b in b.values.count { $0.account == account } }
    }

    /// Binds that can take deliver_sm (receiver, transceiver): connection → account.
    func receivers() -> [UInt64: String] {
        binds.withLockedValue { b in b.filter(\.value.canReceive).mapValues(\.account) }
    }

    /// Takes one submission's token of the system_id's `--tps`; false when it has none left this second.
    func take(_ entry: Entry, nowMs: Int64) -> Bool {
        guard let tps = entry.tps, tps > 0 else { return true }
        let rate = Double(tps)
        return buckets.withLockedValue { b in
            var bucket = b[entry.systemID] ?? (rate, nowMs)
            bucket.tokens = min(rate, bucket.tokens + Double(max(0, nowMs - bucket.atMs)) * rate / 1000)
            bucket.atMs = nowMs
            defer { b[entry.systemID] = bucket }
            guard bucket.tokens >= 1 else { return false }
            bucket.tokens -= 1
            return true
        }
    }

    public func entry(connection: UInt64) -> Entry? {
        binds.withLockedValue { $0[connection] }
    }

    /// Binds per account.
    public func perAccount() -> [String: Int] {
        binds.withLockedValue { b in
            var counts: [String: Int] = [:]
            for e in b.values { counts[e.account, default: 0] += 1 }
            return counts
        }
    }
}
