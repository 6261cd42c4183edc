public import PetrelCore

/// Message statistics from counters, not from the messages: per hour of acceptance, account, country (calling
/// code, `CallingCode`), Type and channel. A message is counted submitted (with its parts) in the transaction that
/// stores it, under channel "" (not sent yet); the transaction that makes it final (the same UPDATE of its status as
/// its receipt's outbox row) counts its outcome, its error code, its time to delivery in `StatsCounts.edgesSeconds`'
/// buckets, and moves it to the channel that finished it. So the counters are exact after a crash, and a message
/// accepted in an hour counts there for good, as QueryMessage would count it by its send date.
public protocol StatisticsStore: Sendable {
    /// The counters matching `filter`, summed by `dimension`, in the order of its keys.
    func statistics(_ filter: StatsFilter, by dimension: StatsDimension) async throws -> [StatsRow]
    /// The counters matching `filter` by period (hour, or day of the zone `dayOffsetSeconds` ahead of UTC when that
    /// is not nil), account, country, Type and channel: what a page sums every way it shows, in one read.
    func statisticsCells(_ filter: StatsFilter, dayOffsetSeconds: Int?) async throws -> [StatsCell]
    /// The most frequent error codes of failed and expired messages matching `filter`, most frequent first.
    func statisticsErrors(_ filter: StatsFilter, limit: Int) async throws -> [StatsError]
}

/// What to count: hours of acceptance in [fromMs, toMs), and optionally one account, country, channel and Type.
/// Every value is bound as a parameter, never spliced into SQL.
public struct StatsFilter: Sendable, Equatable {
    public var fromMs: Int64
    public var toMs: Int64
    /// nil: every account (the operator's view).
    public var account: String?
    public var country: String?
    public var channel: String?
    public var type: String?

    public init(
        fromMs: Int64,
        toMs: Int64,
        account: String? = nil,
        country: String? = nil,
        channel: String? = nil,
        type: String? = nil
    ) {
        self.fromMs = fromMs
        self.toMs = toMs
        self.account = account
        self.country = country
        self.channel = channel
        self.type = type
    }
}

/// How rows are grouped. `.day(offsetSeconds:)` groups hours into days of that zone.
public enum StatsDimension: Sendable, Equatable {
    case hour
    case day(offsetSeconds: Int)
    case account
    case country
    case channel
    case type
    /// Everything matching the filter in one row.
    case total
}

/// Counts of messages.
public struct StatsCounts: Sendable, Equatable {
    /// Upper edges of the time-to-delivery buckets, in seconds (from acceptance to the delivery receipt): the last
    /// bucket holds everything slower than an hour.
    public static let edgesSeconds: [Int64] = [1, 2, 5, 10, 30, 60, 300, 1800, 3600]
    public static let buckets = edgesSeconds.count + 1

    public var submitted = 0
    public var parts = 0
    public var delivered = 0
    public var failed = 0
    public var expired = 0
    /// Delivered messages by time to delivery, `buckets` entries.
    public var delivery = [Int](repeating: 0, count: StatsCounts.buckets)

    public init() {}

    /// Accepted, not final yet (queued, submitting or sent).
    public var waiting: Int { submitted - delivered - failed - expired }

    /// Delivered of those that are final, nil when none is.
    public var deliveryRate: Double? {
        let done = delivered + failed + expired
        return done == 0 ? nil : Double(delivered) / Double(done)
    }

    /// The bucket index of a delivery after `ms` milliseconds.
    public static func bucket(ms: Int64) -> Int {
        edgesSeconds.firstIndex { ms <= $0 * 1000 } ?? edgesSeconds.count
    }

    /// The upper edge (seconds) of the bucket that holds the median delivery; `Int64.max` for the last; nil with
    /// no delivery.
    public var medianDeliveryEdgeSeconds: Int64? {
        guard delivered > 0 else { return nil }
        var seen = 0
        for (i, n) in delivery.enumerated() {
            seen += n
            if seen * 2 >= delivered { return i < Self.edgesSeconds.count ? Self.edgesSeconds[i] : Int64.max }
        }
        return Int64.max
    }

    public static func + (a: StatsCounts, b: StatsCounts) -> StatsCounts {
        var r = a
        r.submitted += b.submitted
        r.parts += b.parts
        r.delivered += b.delivered
        r.failed += b.failed
        r.expired += b.expired
        for i in r.delivery.indices { r.delivery[i] += b.delivery[i] }
        return r
    }
}

/// One group: `key` is the hour or day's start (Unix ms, as text), the account, calling code, channel or Type.
public struct StatsRow: Sendable, Equatable {
    public var key: String
    public var counts: StatsCounts

    public init(key: String, counts: StatsCounts) {
        self.key = key
        self.counts = counts
    }
}

public struct StatsError: Sendable, Equatable {
    public var code: String
    public var count: Int

    public init(code: String, count: Int) {
        self.code = code
        self.count = count
    }
}

/// What the stores share: the counter columns, and one key of a message's counters.
public enum StatsSQL {
    public static let hourMs: Int64 = 3_600_000
    /// The delivery bucket columns d0…d9.
    public static let deliveryColumns = (0..<StatsCounts.buckets).map { "d\($0)" }

    /// The SQL expression of `dimension`'s key (only fixed column names and `?` placeholders; `offsetMs` binds).
    static func keyExpression(_ dimension: StatsDimension) -> String {
        switch dimension {
        case .hour: "hour"
        case .day: "((hour + ?) / 86400000) * 86400000 - ?"
        case .account: "account"
        case .country: "country"
        case .channel: "channel"
        case .type: "type"
        case .total: "''"
        }
    }
}

/// The key a message is counted under (its hour of acceptance, account, calling code, Type; channel "" until final).
public struct StatsKey: Hashable, Sendable {
    public var hour: Int64
    public var account: String
    public var country: String
    public var type: String
    public var channel: String

    public init(_ m: Message) {
        hour = (m.createdAtMs / StatsSQL.hourMs) * StatsSQL.hourMs
        account = m.account
        country = CallingCode.of(m.to)
        type = m.type.rawValue
        channel = m.channel
    }
}

/// The counters of one period, account, country, Type and channel.
public struct StatsCell: Sendable, Equatable {
    /// The hour's or day's start, Unix ms.
    public var period: Int64
    public var account: String
    public var country: String
    public var type: String
    public var channel: String
    public var counts: StatsCounts

    public init(period: Int64, account: String, country: String, type: String, channel: String, counts: StatsCounts) {
        self.period = period
        self.account = account
        self.country = country
        self.type = type
        self.channel = channel
        self.counts = counts
    }
}
