public import PetrelCore

/// Accounts' receipt settings and the outbox of receipts to push to them, as the pusher works it.
public protocol ReceiptOutbox: Sendable {
    func accounts() async throws -> [AccountRecord]
    /// Inserts or replaces an account's receipt settings.
    func putAccount(_ account: AccountRecord) async throws
    /// An account's receipts due at `nowMs`, oldest first. A message reaching a final state enters the outbox
    /// in the same transaction as the status change (for accounts with a receipt URL), so no crash loses one.
    func dueReceipts(account: String, nowMs: Int64, limit: Int) async throws -> [OutboxReceipt]
    /// Takes receipts (from `dueReceipts`) for one push: those still due at `nowMs` are not due again before
    /// `untilMs`, so no other node pushes them meanwhile. Returns the ids taken.
    func leaseReceipts(ids: [Int64], nowMs: Int64, untilMs: Int64) async throws -> Set<Int64>
    /// Receipts the customer took at `nowMs`: they leave the outbox (the push stays in the message's history).
    func receiptsPushed(ids: [Int64], nowMs: Int64) async throws
    /// Receipts to try again later (attempts + 1).
    func receiptsRetry(_ retries: [ReceiptRetry]) async throws
    /// Receipts given up on for now: kept, listed by `parkedReceipts`, sent again by `retryParked`.
    func parkReceipts(ids: [Int64], error: String, nowMs: Int64) async throws
}

/// What an operator does with the outbox: parked receipts, replays, totals.
public protocol OutboxOperations: Sendable {
    func parkedReceipts(account: String?, limit: Int) async throws -> [OutboxReceipt]
    /// Moves parked receipts back to the outbox, due at `nowMs`; returns how many.
    func retryParked(account: String?, nowMs: Int64) async throws -> Int
    /// Puts a receipt for every final message matching `filter` in the outbox; returns how many.
    func replayReceipts(_ filter: ReceiptFilter, nowMs: Int64) async throws -> Int
    /// How many receipts `replayReceipts(filter)` would put in the outbox now (to ask before doing it).
    func replayableReceipts(_ filter: ReceiptFilter) async throws -> Int
    func outboxCounts() async throws -> OutboxCounts
    func outboxCounts(account: String) async throws -> OutboxCounts
}
