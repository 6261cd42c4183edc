public import PetrelCore

/// Reading back what was accepted, as the API's query actions do.
public protocol MessageLookup: Sendable {
    func message(id: Int64, account: String) async throws -> Message?
    /// Its failures and expiries with their reasons (the whole history is `MessageHistory`'s).
    func events(messageId: Int64) async throws -> [MessageEvent]
    func conversions(account: String) async throws -> [ConversionRecord]
    func conversionData(account: String) async throws -> [ConversionDataRecord]
}

/// The operator's views: searches, parts, series and totals for the console and metrics.
public protocol ConsoleQueries: Sendable {
    /// One account's messages matching `query`, newest first.
    func searchMessages(_ query: MessageQuery) async throws -> [Message]
    /// The parts of a message that carriers accepted, with their receipts' outcome.
    func parts(messageId: Int64) async throws -> [PartView]
    /// An account's messages accepted since `sinceMs`, by current status, in buckets of `bucketMs`.
    func statusSeries(account: String, sinceMs: Int64, bucketMs: Int64) async throws -> [StatusBucket]
    func counts() async throws -> [MessageStatus: Int]
    /// Queued messages by priority (for metrics).
    func queueDepth() async throws -> [Priority: Int]
}
