public import Logging
public import PetrelCore
public import PetrelStore

/// One durable outbox an `OutboxPusher` works: where each account's items go, the store calls that move them
/// through the outbox (due, leased, taken, retried, parked), and the body the receivers take.
public protocol PushFeed: Sendable {
    associatedtype Item: OutboxItem
    /// In logs: "receipt", "inbound message".
    static var name: String { get }
    func accounts() async throws -> [AccountRecord]
    /// The account's URL for this feed; empty: not pushed.
    func url(of account: AccountRecord) -> String
    func due(account: String, nowMs: Int64, limit: Int) async throws -> [Item]
    func lease(ids: [Int64], nowMs: Int64, untilMs: Int64) async throws -> Set<Int64>
    /// The receiver took these: they leave the outbox.
    func taken(ids: [Int64], nowMs: Int64) async throws
    func retry(_ retries: [ReceiptRetry]) async throws
    func park(ids: [Int64], error: String, nowMs: Int64) async throws
    func body(_ items: [Item], dateOffsetSeconds: Int) -> [UInt8]
    func pushed(_ count: Int, lagsMs: [Int64])
    func pushFailed()
}

/// An outbox row: its id (stable across retries), attempts so far, and when it entered the outbox.
public protocol OutboxItem: Sendable {
    var id: Int64 { get }
    var attempts: Int { get }
    var createdAtMs: Int64 { get }
}

extension OutboxReceipt: OutboxItem {}
extension OutboxInbound: OutboxItem {}

/// Delivery receipts, in Alibaba's SmsReport format, to `accounts[].receiptUrl`.
public struct ReceiptFeed: PushFeed {
    public static let name = "receipt"
    let store: any ReceiptOutbox

    public init(store: any ReceiptOutbox) { self.store = store }

    public func accounts() async throws -> [AccountRecord] { try await store.accounts() }
    public func url(of account: AccountRecord) -> String { account.receiptURL }
    public func due(account: String, nowMs: Int64, limit: Int) async throws -> [OutboxReceipt] {
        try await store.dueReceipts(account: account, nowMs: nowMs, limit: limit)
    }
    public func lease(ids: [Int64], nowMs: Int64, untilMs: Int64) async throws -> Set<Int64> {
        try await store.leaseReceipts(ids: ids, nowMs: nowMs, untilMs: untilMs)
    }
    public func taken(ids: [Int64], nowMs: Int64) async throws {
        try await store.receiptsPushed(ids: ids, nowMs: nowMs)
    }
    public func retry(_ retries: [ReceiptRetry]) async throws { try await store.receiptsRetry(retries) }
    public func park(ids: [Int64], error: String, nowMs: Int64) async throws {
        try await store.parkReceipts(ids: ids, error: error, nowMs: nowMs)
    }
    public func body(_ items: [OutboxReceipt], dateOffsetSeconds: Int) -> [UInt8] {
        ReceiptReport.body(items, dateOffsetSeconds: dateOffsetSeconds)
    }
    public func pushed(_ count: Int, lagsMs: [Int64]) { DeliveryMetrics.receiptsPushed(count, lagsMs: lagsMs) }
    public func pushFailed() { DeliveryMetrics.receiptPushFailed() }
}

/// Inbound messages, in Alibaba's SmsUp format, to `accounts[].moUrl`.
public struct InboundFeed: PushFeed {
    public static let name = "inbound message"
    let store: any InboundLog & ReceiptOutbox

    public init(store: any InboundLog & ReceiptOutbox) { self.store = store }

    public func accounts() async throws -> [AccountRecord] { try await store.accounts() }
    public func url(of account: AccountRecord) -> String { account.moURL }
    public func due(account: String, nowMs: Int64, limit: Int) async throws -> [OutboxInbound] {
        try await store.dueInbound(account: account, nowMs: nowMs, limit: limit)
    }
    public func lease(ids: [Int64], nowMs: Int64, untilMs: Int64) async throws -> Set<Int64> {
        try await store.leaseInbound(ids: ids, nowMs: nowMs, untilMs: untilMs)
    }
    public func taken(ids: [Int64], nowMs: Int64) async throws { try await store.inboundPushed(ids: ids, nowMs: nowMs) }
    public func retry(_ retries: [ReceiptRetry]) async throws { try await store.inboundRetry(retries) }
    public func park(ids: [Int64], error: String, nowMs: Int64) async throws {
        try await store.parkInbound(ids: ids, error: error, nowMs: nowMs)
    }
    public func body(_ items: [OutboxInbound], dateOffsetSeconds: Int) -> [UInt8] {
        SmsUpReport.body(items.map(\.message), dateOffsetSeconds: dateOffsetSeconds)
    }
    public func pushed(_ count: Int, lagsMs: [Int64]) { DeliveryMetrics.inboundPushed(count, lagsMs: lagsMs) }
    public func pushFailed() { DeliveryMetrics.inboundPushFailed() }
}

extension OutboxPusher where Feed == ReceiptFeed {
    public convenience init(
        store: any ReceiptOutbox,
        configuration: Configuration,
        logger: Logger,
        clock: @escaping @Sendable () -> Int64,
        client: WebhookClient = WebhookClient(),
        log: PushLog? = nil
    ) {
        self.init(
            feed: ReceiptFeed(store: store),
            configuration: configuration,
            logger: logger,
            clock: clock,
            client: client,
            log: log
        )
    }
}
