public import PetrelCore

/// Message statistics from counters, not from the messages: per hour of acceptance, account, country (calling
/// code, `CallingCode`), Type and channel. The counters are kept off the hot path: the accept and final-status
/// transactions only stamp the message row with where it stands in the store's commit order (a fold epoch on
/// SQLite, the transaction id on PostgreSQL), and `foldStatistics` (a background task every few seconds) counts
/// the rows stamped since its cursor and moves the cursor in the same transaction. A read adds what was stamped
/// since the cursor (SQLite folds it first; PostgreSQL sums it in the read's own statement). A message
/// counts as submitted (with its parts) under channel "" (not sent yet); once final, its outcome, error code and
/// time to delivery (`StatsCounts.edgesSeconds`' buckets) count, and it moves to the channel that finished it. A
/// message accepted in an hour counts there for good, as QueryMessage and QuerySendStatistics count it, by its
/// send date (days are by acceptance time, not by the time of the outcome). So the numbers are exact after a
/// crash, and a read equals what the messages say at that moment.
public protocol StatisticsStore: Sendable {
    /// Counts what was stored or became final since the last fold, in one transaction with the cursor; returns the
    /// counter rows it changed (0: nothing new). Several callers, on one node or several, count each event once.
    @discardableResult
    func foldStatistics() async throws -> Int
    /// The counters matching `filter` (with what is not folded yet), summed by `dimension`, in the order of its keys.
    func statistics(_ filter: StatsFilter, by dimension: StatsDimension) async throws -> [StatsRow]
    /// The counters matching `filter` (with what is not folded yet) by period (hour, or day of the zone `dayOffsetSeconds` ahead of
    /// UTC when that is not nil), account, country, Type and channel: what a page sums every way it shows, in one
    /// read.
    func statisticsCells(_ filter: StatsFilter, dayOffsetSeconds: Int?) async throws -> [StatsCell]
    /// The most frequent error codes of failed and expired messages matching `filter` (with what is not folded
    /// yet), most frequent first.
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

/// A fold stopped on purpose before moving its cursor (tests).
struct StatsFoldInterrupted: Error {}

extension StatsSQL {
    /// The counter columns after the key, in order.
    static let counterColumns = ["submitted", "parts", "delivered", "failed", "expired"] + deliveryColumns

    /// The counter deltas of the messages `m` stored where `accepts` holds and made final where `finals` holds
    /// (fixed SQL predicates on `m`), summed by key: account, hour, country, type, channel, then `counterColumns`.
    /// An accept counts under channel ""; an outcome counts under the message's channel, and a message that went
    /// out on a channel moves there from "" (both stores' old triggers did the same, in the hot transactions).
    /// `code` is the SQL of the calling code of a recipient expression.
    static func foldSelect(code: (String) -> String, accepts: String, finals: String) -> String {
        let d = deliveryColumns
        let delivered = MessageStatus.delivered.rawValue
        let final = MessageStatus.finalFloor
        let ms = "(COALESCE(m.done_at, m.created_at) - m.created_at)"
        let edges = StatsCounts.edgesSeconds.enumerated().map { "WHEN \(ms) <= \($0.element * 1000) THEN \($0.offset)" }
        let bucket = "CASE \(edges.joined(separator: " ")) ELSE \(StatsCounts.edgesSeconds.count) END"
        func when(_ c: String) -> String { "CASE WHEN \(c) THEN 1 ELSE 0 END" }
        let key = """
            m.account AS account, (m.created_at / 3600000) * 3600000 AS hour, \(code("m.recipient")) AS country,
                m.type AS type
            """
        let zeros = Array(repeating: "0", count: 3 + d.count)
        let named = ["s", "p", "dl", "fl", "ex"] + d
        let accept = ["1", "m.segments"] + zeros
        let outcome =
            [when("m.channel <> ''"), "CASE WHEN m.channel <> '' THEN m.segments ELSE 0 END"]
            + [when("m.status = \(delivered)"), when("m.status = \(MessageStatus.failed.rawValue)")]
            + [when("m.status = \(MessageStatus.expired.rawValue)")]
            + d.indices.map { when("m.status = \(delivered) AND b = \($0)") }
        let move = ["-1", "-m.segments"] + zeros
        return """
            SELECT account, hour, country, type, channel, \(named.map { "SUM(\($0))" }.joined(separator: ", ")) FROM (
                SELECT \(key), '' AS channel, \(zip(accept, named).map { "\($0) AS \($1)" }.joined(separator: ", "))
                FROM messages m WHERE \(accepts)
                UNION ALL
                SELECT account, hour, country, type, channel, \(outcome.joined(separator: ", ")) FROM (
                    SELECT \(key), m.channel AS channel, m.status AS status, m.segments AS segments, \(bucket) AS b
                    FROM messages m WHERE (\(finals)) AND m.status >= \(final)) m
                UNION ALL
                SELECT \(key), '', \(move.joined(separator: ", "))
                FROM messages m WHERE (\(finals)) AND m.status >= \(final) AND m.channel <> ''
            ) u WHERE 1 = 1 GROUP BY account, hour, country, type, channel
            """
    }

    /// The error codes of the messages made final where `finals` holds, counted by key and code.
    static func foldErrorsSelect(code: (String) -> String, finals: String) -> String {
        """
        SELECT m.account, (m.created_at / 3600000) * 3600000, \(code("m.recipient")), m.type, m.channel, m.error_code,
            COUNT(*)
        FROM messages m WHERE (\(finals)) AND m.status > \(MessageStatus.delivered.rawValue) AND m.error_code <> ''
        GROUP BY 1, 2, 3, 4, 5, 6
        """
    }

    /// The messages made final where `finals` holds that belong to a campaign (`campaign_outcomes`: the
    /// campaign's account and task id, an id inside its span), counted by campaign: id, delivered, failed, expired.
    /// Found over the index on `fx`, then one seek each in `campaign_outcomes_task`.
    static func foldCampaignsSelect(finals: String) -> String {
        func count(_ s: MessageStatus) -> String { "SUM(CASE WHEN m.status = \(s.rawValue) THEN 1 ELSE 0 END)" }
        return """
            SELECT o.campaign_id, \(count(.delivered)), \(count(.failed)), \(count(.expired))
            FROM messages m JOIN campaign_outcomes o ON o.account = m.account AND o.task = m.task_id
                AND o.first_message <= m.id AND m.id <= o.last_message
            WHERE (\(finals)) AND m.status >= \(MessageStatus.finalFloor)
            GROUP BY o.campaign_id
            """
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
