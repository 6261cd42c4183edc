public import PetrelCore

/// Forgetting what is past its retention: final messages (with their parts, events and outbox rows) and the
/// conversion reports about them, their texts,
/// the sandbox inbox and finished campaigns (receipts that matched nothing go after minutes, see
/// `dropOrphanReceipts`). Only final messages are ever touched
/// (queued, submitting and sent ones are not, whatever their age). Every call changes at most `limit` rows of its
/// main table in one short transaction, so purging never holds the accept path's commits for long; on a shared
/// store the rows each call takes are locked and skipped by the other nodes (`FOR UPDATE SKIP LOCKED`), so two
/// nodes purging at once delete each row once.
public protocol Retention: Sendable {
    /// The accounts that have final messages, sandbox inbox rows or campaigns: those a purge round visits.
    func retentionAccounts() async throws -> [String]
    /// Deletes up to `limit` final messages of `account` finished before `finishedBeforeMs`, with their parts and
    /// events, in one transaction.
    func purgeMessages(account: String, finishedBeforeMs: Int64, limit: Int) async throws -> PurgeCounts
    /// Deletes up to `limit` receipt outbox rows (waiting or parked) of `account` for messages finished before
    /// `createdBeforeMs` (a row is created when its message becomes final).
    func purgeOutbox(account: String, createdBeforeMs: Int64, limit: Int) async throws -> Int
    /// What purging every final message of `account` finished before `finishedBeforeMs` (and its outbox rows)
    /// would delete, for a dry run.
    func purgeableCounts(account: String, finishedBeforeMs: Int64) async throws -> PurgeCounts
    /// Empties the text of up to `limit` final messages of `account` and `type` finished before `finishedBeforeMs`;
    /// length and segments stay. Returns how many were redacted. (By type, so that redacting one type as soon as
    /// it is final walks only that type's unredacted rows.)
    func redactTexts(account: String, type: MessageType, finishedBeforeMs: Int64, limit: Int) async throws -> Int
    /// Deletes up to `limit` conversion reports (SmsConversion) and up to `limit` conversion rates (ConversionData)
    /// of `account` received before `receivedBeforeMs`; returns the rows deleted.
    func purgeConversions(account: String, receivedBeforeMs: Int64, limit: Int) async throws -> Int
    /// Deletes up to `limit` sandbox inbox rows of `account` received before `receivedBeforeMs`.
    func purgeSandbox(account: String, receivedBeforeMs: Int64, limit: Int) async throws -> Int
    /// Deletes up to `limit` finished (done or cancelled) campaigns of `account` last changed before
    /// `updatedBeforeMs`, with their reports and rows.
    func purgeCampaigns(account: String, updatedBeforeMs: Int64, limit: Int) async throws -> Int
    /// Deletes the statistics counters (`StatisticsStore`) of `account` for up to `limit` hours that began before
    /// `hourBeforeMs`: the counters go with the messages they counted. Returns the rows deleted. (A shared store
    /// first folds the account's counter rows that its triggers appended into one per key.)
    func purgeStatistics(account: String, hourBeforeMs: Int64, limit: Int) async throws -> Int
    /// Nanoseconds the store's one writer has spent in transactions since the store opened, when all writes go
    /// through one writer (SQLite); nil when they run side by side (PostgreSQL). The purge rests longer while the
    /// writer is busy with other work.
    var writerBusyNanoseconds: UInt64? { get }
}

/// Rows deleted (or that would be), by table.
public struct PurgeCounts: Sendable, Equatable {
    public var messages = 0
    public var parts = 0
    public var events = 0
    public var receipts = 0
    public var conversions = 0

    public init(messages: Int = 0, parts: Int = 0, events: Int = 0, receipts: Int = 0, conversions: Int = 0) {
        self.messages = messages
        self.parts = parts
        self.events = events
        self.receipts = receipts
        self.conversions = conversions
    }

    public static func + (a: PurgeCounts, b: PurgeCounts) -> PurgeCounts {
        PurgeCounts(
            messages: a.messages + b.messages,
            parts: a.parts + b.parts,
            events: a.events + b.events,
            receipts: a.receipts + b.receipts,
            conversions: a.conversions + b.conversions
        )
    }
}
