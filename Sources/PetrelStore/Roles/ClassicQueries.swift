public import PetrelCore

/// The reads of dysmsapi 2017-05-25: QuerySendDetails (its own messages only) and QuerySendStatistics.
public protocol ClassicQueries: Sendable {
    /// One page of the messages `q` asks for, oldest first, and how many match in all.
    func sendDetails(_ q: SendDetailsQuery) async throws -> SendDetailsPage
    /// An account's messages (of both API versions) accepted in `q.ids`, totalled by local calendar day, oldest
    /// day first; days without messages are left out.
    func sendStatistics(_ q: SendStatisticsQuery) async throws -> [DayTotals]
}

public struct SendDetailsQuery: Sendable, Equatable {
    public var account: String
    /// E.164 digits without "+".
    public var to: String
    /// Ids the messages may have: a day's (ids begin with their acceptance time).
    public var ids: ClosedRange<Int64>
    /// Only the messages of this request (`Message.bizId`), nil for any.
    public var bizId: Int64?
    public var offset: Int
    public var limit: Int

    public init(account: String, to: String, ids: ClosedRange<Int64>, bizId: Int64? = nil, offset: Int, limit: Int) {
        self.account = account
        self.to = to
        self.ids = ids
        self.bizId = bizId
        self.offset = offset
        self.limit = limit
    }
}

public struct SendDetailsPage: Sendable, Equatable {
    public var total: Int
    public var messages: [Message]

    public init(total: Int, messages: [Message]) {
        self.total = total
        self.messages = messages
    }
}

public struct SendStatisticsQuery: Sendable, Equatable {
    public var account: String
    /// Ids of the messages counted: from the first day's start to the last day's end.
    public var ids: Range<Int64>
    /// Mainland China recipients (+86) only, or every other recipient only.
    public var mainland: Bool
    /// The days' zone, in milliseconds east of UTC.
    public var offsetMs: Int64

    public init(account: String, ids: Range<Int64>, mainland: Bool, offsetMs: Int64) {
        self.account = account
        self.ids = ids
        self.mainland = mainland
        self.offsetMs = offsetMs
    }
}

/// One day's messages by outcome; those neither delivered nor failed are still on their way.
public struct DayTotals: Sendable, Equatable {
    /// Days since 1970-01-01 in the query's zone.
    public var day: Int64
    public var total: Int
    public var delivered: Int
    public var failed: Int

    public init(day: Int64, total: Int, delivered: Int, failed: Int) {
        self.day = day
        self.total = total
        self.delivered = delivered
        self.failed = failed
    }
}

enum ClassicSQL {
    static let classic = APIVersion.classic.rawValue
    static let delivered = MessageStatus.delivered.sql
    static let failed = "\(MessageStatus.failed.sql), \(MessageStatus.expired.sql)"
}
