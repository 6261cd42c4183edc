import NIOConcurrencyHelpers
import PetrelSMPP

/// The binds the SMPP server holds, by connection: admitted under the server's `maxBinds` and each system_id's
/// own, released when their connection goes. Counted per account for /metrics and the console, with the account's
/// submissions of the last minute.
public final class SMPPBindBoard: Sendable {
    public struct Entry: Sendable, Equatable {
        public var systemID: String
        public var account: String
        public var mode: BindMode
        /// The system_id's `--tps`.
        public var tps: Int? = nil

        var canReceive: Bool { mode.canReceive }
    }

    /// What the console shows of one account: binds by mode, and messages answered in the last 60 s.
    public struct AccountView: Sendable, Equatable {
        public var transmitters = 0
        public var receivers = 0
        public var transceivers = 0
        public var accepted = 0
        public var refused = 0
    }

    /// Submissions of one account by second, in a ring of 60: (the second, accepted, refused).
    struct Minute {
        var seconds = [Int64](repeating: -1, count: 60)
        var accepted = [Int](repeating: 0, count: 60)
        var refused = [Int](repeating: 0, count: 60)

        mutating func note(ok: Bool, nowMs: Int64) {
            let second = nowMs / 1000
            let i = Int(second % 60)
            if seconds[i] != second {
                seconds[i] = second
                accepted[i] = 0
                refused[i] = 0
            }
            if ok { accepted[i] += 1 } else { refused[i] += 1 }
        }

        /// (accepted, refused) in the 60 s up to `nowMs`.
        func total(nowMs: Int64) -> (Int, Int) {
            let now = nowMs / 1000
            var a = 0
            var r = 0
            for i in 0..<60 where seconds[i] > now - 60 && seconds[i] <= now {
                a += accepted[i]
                r += refused[i]
            }
            return (a, r)
        }
    }

    private let binds = NIOLockedValueBox([UInt64: Entry]())
    /// By account; an account is added by its first submission and never removed (accounts are few: configured).
    private let minutes = NIOLockedValueBox([String: Minute]())
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

    /// A message of `account` was answered (`ok`: with its id).
    func noteSubmit(account: String, ok: Bool, nowMs: Int64) {
        minutes.withLockedValue { $0[account, default: Minute()].note(ok: ok, nowMs: nowMs) }
    }

    /// Every account bound now or that submitted in the last minute.
    public func accounts(nowMs: Int64) -> [String: AccountView] {
        var views: [String: AccountView] = [:]
        for e in binds.withLockedValue({ Array($0.values) }) {
            switch e.mode {
            case .transmitter: views[e.account, default: AccountView()].transmitters += 1
            case .receiver: views[e.account, default: AccountView()].receivers += 1
            case .transceiver: views[e.account, default: AccountView()].transceivers += 1
            }
        }
        for (account, minute) in minutes.withLockedValue({ $0 }) {
            let (accepted, refused) = minute.total(nowMs: nowMs)
            guard accepted + refused > 0 || views[account] != nil else { continue }
            views[account, default: AccountView()].accepted = accepted
            views[account, default: AccountView()].refused = refused
        }
        return views
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
