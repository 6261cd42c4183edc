import Synchronization

/// `limits.pumpingGuard`: when an account sent at least `minSent` messages of `type` to one country within
/// `windowMs` and the share reported converted (SmsConversion, Delivered true) is below `minConversionRate`, its
/// sends of that type to that country halt until an operator lifts the halt (the SMS-pumping pattern: many OTPs to
/// premium ranges, nobody entering the codes).
public struct PumpingGuard: Sendable, Hashable {
    public var type: MessageType
    public var windowMs: Int64
    public var minSent: Int
    public var minConversionRate: Double

    public init(
        type: MessageType = .otp,
        windowMs: Int64 = 3_600_000,
        minSent: Int = 200,
        minConversionRate: Double = 0.2
    ) {
        self.type = type
        self.windowMs = windowMs
        self.minSent = minSent
        self.minConversionRate = minConversionRate
    }

    /// The longest window: the counters are pruned with the other send counters, a day after.
    public static let maxWindowMs: Int64 = 86_400_000

    /// Sends and conversions are counted per bucket of a sixtieth of the window (at least a second), summed over
    /// the buckets that start within the window: the window's edge is exact to one bucket.
    public var bucketMs: Int64 { max(1000, windowMs / 60) }

    /// The first millisecond of the bucket holding `ms`.
    public func bucket(_ ms: Int64) -> Int64 {
        let b = bucketMs
        return (ms >= 0 ? ms / b : -((-ms + b - 1) / b)) * b
    }

    /// Whether `sent` messages with `converted` of them reported converted must halt.
    public func halts(sent: Int, converted: Int) -> Bool {
        guard sent >= minSent, sent > 0 else { return false }
        return Double(min(converted, sent)) / Double(sent) < minConversionRate
    }
}

/// One counter bucket of the guard: an account's sends (or conversions) of a Type to a country.
public struct PumpingBucket: Sendable, Hashable {
    /// ISO 3166 alpha-2, or "" when the number's country is not known.
    public var country: String
    public var type: MessageType
    public var start: Int64

    public init(country: String, type: MessageType, start: Int64) {
        self.country = country
        self.type = type
        self.start = start
    }
}

/// What the store counted for an account, Type and country over a window, from the later of the window's start
/// and the last lift (`countedFromMs`, nil when the pair was never halted).
public struct PumpingCount: Sendable, Equatable {
    public var account: String
    public var country: String
    public var type: MessageType
    public var sent: Int
    public var converted: Int
    public var countedFromMs: Int64?

    public init(account: String, country: String, type: MessageType, sent: Int, converted: Int, countedFromMs: Int64?) {
        self.account = account
        self.country = country
        self.type = type
        self.sent = sent
        self.converted = converted
        self.countedFromMs = countedFromMs
    }
}

/// A halt the guard made: sends of `type` from `account` to `country` are refused until lifted.
public struct PumpingHalt: Sendable, Equatable {
    public var account: String
    public var country: String
    public var type: MessageType
    public var haltedAtMs: Int64
    public var sent: Int
    public var converted: Int

    public init(account: String, country: String, type: MessageType, haltedAtMs: Int64, sent: Int, converted: Int) {
        self.account = account
        self.country = country
        self.type = type
        self.haltedAtMs = haltedAtMs
        self.sent = sent
        self.converted = converted
    }

    public var rate: Double { sent > 0 ? Double(converted) / Double(sent) : 0 }

    /// The country as people read it ("+?" when the numbers' country was not known).
    public var place: String { country.isEmpty ? "an unknown country" : country }

    /// The answer to a send it holds back.
    public var refusal: ResponseCode {
        ResponseCode.outOfService.with(
            "limits.pumpingGuard halted this account's \(type.rawValue) messages to \(place): \(sent) sent, "
                + "\(converted) reported converted (rate \(Self.format(rate))); an operator lifts it with "
                + "petrel limits lift."
        )
    }

    public static func format(_ rate: Double) -> String {
        let n = (rate * 1000).rounded() / 1000
        return String(n)
    }
}

/// The halts in force, as this node last read them from the store (every second or so): the accept path asks it,
/// in memory, only for an account whose guard covers the message's Type.
public final class PumpingHaltBoard: Sendable {
    private let halts = Mutex<[String: PumpingHalt]>([:])

    public init() {}

    private static func key(_ account: String, _ country: String, _ type: MessageType) -> String {
        "\(account) \(country) \(type.rawValue)"
    }

    public func replace(_ all: [PumpingHalt]) {
        let byKey = Dictionary(all.map { (Self.key($0.account, $0.country, $0.type), $0) }) { a, _ in a }
        halts.withLock { $0 = byKey }
    }

    public func add(_ halt: PumpingHalt) {
        halts.withLock { $0[Self.key(halt.account, halt.country, halt.type)] = halt }
    }

    public func halt(account: String, country: String, type: MessageType) -> PumpingHalt? {
        halts.withLock { $0[Self.key(account, country, type)] }
    }

    public var all: [PumpingHalt] { halts.withLock { Array($0.values) } }
}
