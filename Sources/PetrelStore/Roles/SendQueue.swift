public import PetrelCore

/// The queue of accepted messages on their way to carriers: claims with leases, what dispatch learned, retries,
/// expiry. The dispatcher is its one user.
public protocol SendQueue: Sendable {
    /// Moves up to `limit` due queued messages to `submitting` with a lease, highest priority first.
    func claim(limit: Int, nowMs: Int64, leaseMs: Int64) async throws -> [Message]
    /// Claims like `claim`, and records as sent, in the same write, what `sendNow` sent at once (a channel inside
    /// the process, such as the sandbox): those go from `queued` to `sent` and are not returned. Only the `sent`
    /// and `inbox` of its answer are read. Returns the messages left claimed (as `claim` returns them) and how
    /// many were sent at once.
    ///
    /// The one place the store calls code above it: SQLite runs `sendNow` inside its write transaction, on its
    /// writer thread, to save a second write per round (the sandbox's rate doubles). `sendNow` must therefore be
    /// quick, must not block and must not call the store.
    func claim(
        limit: Int,
        nowMs: Int64,
        leaseMs: Int64,
        sendNow: @escaping @Sendable ([Message]) -> DispatchResults
    ) async throws -> (claimed: [Message], sentNow: Int)
    /// Records what a dispatch round learned: messages the carrier accepted (`submitting` → `sent`, with their
    /// parts), failures, and retries; also applies orphaned receipts that now match a part. Returns the status
    /// changes applied (failures and receipts).
    @discardableResult
    func record(_ results: DispatchResults) async throws -> [StatusUpdate]
    /// Parts already accepted by a carrier, for messages that return to a channel.
    func acceptedParts(messageIds: [Int64]) async throws -> [Int64: Set<Int>]
    /// Applies status changes that the state machine allows; returns those applied.
    @discardableResult
    func apply(_ updates: [StatusUpdate]) async throws -> [StatusUpdate]
    /// Returns `submitting` messages to the queue, to be tried again from `notBeforeMs`.
    func requeue(ids: [Int64], notBeforeMs: Int64) async throws
    /// Returns to the queue every `submitting` message whose lease ended before `nowMs`.
    func requeueExpiredLeases(nowMs: Int64) async throws -> Int
    /// Returns to the queue every message this node claimed: at startup, what a previous run of it left in flight.
    /// (Other nodes' claims are theirs until their leases end.)
    func requeueOwnLeases() async throws -> Int
    /// Queued messages whose validity ended: they become `expired`.
    func expireQueued(nowMs: Int64) async throws -> [StatusUpdate]
    /// Applies the scheduled receipts (of simulated channels) due at `nowMs`; returns those applied.
    func applyDueReceipts(nowMs: Int64, limit: Int) async throws -> [StatusUpdate]
}

extension SendQueue {
    /// Two writes (claim, then record); a store that can do it in one overrides this.
    public func claim(
        limit: Int,
        nowMs: Int64,
        leaseMs: Int64,
        sendNow: @escaping @Sendable ([Message]) -> DispatchResults
    ) async throws -> (claimed: [Message], sentNow: Int) {
        let claimed = try await claim(limit: limit, nowMs: nowMs, leaseMs: leaseMs)
        var sent = DispatchResults()
        let answer = sendNow(claimed)
        sent.sent = answer.sent
        sent.inbox = answer.inbox
        guard !sent.sent.isEmpty else { return (claimed, 0) }
        try await record(sent)
        let ids = Set(sent.sent.map(\.id))
        return (claimed.filter { !ids.contains($0.id) }, sent.sent.count)
    }
}
