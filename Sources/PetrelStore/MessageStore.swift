public import PetrelCore

/// Petrel's durable state. SQLite (embedded default) and PostgreSQL implement it and pass one conformance suite.
public protocol MessageStore: Sendable {
    // MARK: Accept path

    /// Writes one request's messages, nonce and records in one transaction; returns once they are durable.
    /// Concurrent calls share a commit (group commit).
    func commit(_ batch: WriteBatch) async throws
    /// `commit` for a caller that must not wait in a task (the RPC door on its event loop): `then` gets the outcome
    /// once the batch is durable, on the calling event loop when the store can arrange it.
    func commit(_ batch: WriteBatch, then: @escaping @Sendable (Result<Void, any Error>) -> Void)

    func message(id: Int64, account: String) async throws -> Message?
    func events(messageId: Int64) async throws -> [MessageEvent]
    /// The largest message id ever stored (0 when empty), so a restarted id generator continues above it.
    func maxMessageId() async throws -> Int64
    /// Nonces still remembered at `nowMs`, to warm the in-memory replay guard after a restart.
    func liveNonces(nowMs: Int64) async throws -> [NonceRecord]
    func pruneNonces(nowMs: Int64) async throws -> Int
    func conversions(account: String) async throws -> [ConversionRecord]
    func conversionData(account: String) async throws -> [ConversionDataRecord]

    // MARK: Access keys and templates

    func accessKey(id: String) async throws -> AccessKeyRecord?
    /// The answer `accessKey(id:)` would give, when it is in memory and current (which may be "no such key");
    /// nil when only `accessKey(id:)` can tell.
    func cachedAccessKey(id: String) -> AccessKeyRecord??
    func accessKeys() async throws -> [AccessKeyRecord]
    /// Inserts or replaces a key.
    func putAccessKey(_ key: AccessKeyRecord) async throws
    func setAccessKey(id: String, enabled: Bool) async throws -> Bool
    func deleteAccessKey(id: String) async throws -> Bool

    /// The fingerprint of the master key the store's secrets are sealed under, if one was recorded.
    func masterKeyFingerprint() async throws -> String?
    /// Records `fingerprint` unless one is recorded already; returns the one recorded.
    func recordMasterKeyFingerprint(_ fingerprint: String) async throws -> String

    func template(account: String, code: String) async throws -> TemplateRecord?
    func templates(account: String?) async throws -> [TemplateRecord]
    func putTemplate(_ template: TemplateRecord) async throws
    func deleteTemplate(account: String, code: String) async throws -> Bool

    // MARK: Dispatch

    /// Moves up to `limit` due queued messages to `submitting` with a lease, highest priority first.
    func claim(limit: Int, nowMs: Int64, leaseMs: Int64) async throws -> [Message]
    /// Claims like `claim`, and records as sent, in the same write, what `sendNow` sent at once (a channel inside
    /// the process, such as the sandbox): those go from `queued` to `sent` and are not returned. Only the `sent`
    /// and `inbox` of its answer are read. Returns the messages left claimed (as `claim` returns them) and how
    /// many were sent at once.
    func claim(
        limit: Int, nowMs: Int64, leaseMs: Int64, sendNow: @escaping @Sendable ([Message]) -> DispatchResults
    ) async throws -> (claimed: [Message], sentNow: Int)
    /// Records what a dispatch round learned: messages the carrier accepted (`submitting` → `sent`, with their
    /// parts), failures, and retries; also applies orphaned receipts that now match a part. Returns the status
    /// changes applied (failures and receipts).
    @discardableResult
    func record(_ results: DispatchResults) async throws -> [StatusUpdate]
    /// Parts already accepted by a carrier, for messages that return to a channel.
    func acceptedParts(messageIds: [Int64]) async throws -> [Int64: Set<Int>]
    /// Applies carrier receipts to their parts and messages. Unmatched receipts are kept as orphans.
    func applyReceipts(_ receipts: [CarrierReceipt]) async throws -> ReceiptResults
    /// Tries orphaned receipts older than `beforeMs` again under every reading of their ids (hex for decimal and
    /// back): by then a receipt that only overtook its submit_sm_resp has been adopted, so another reading is
    /// no longer ambiguous.
    func resolveOrphans(beforeMs: Int64) async throws -> ReceiptResults
    /// Drops orphaned receipts older than `beforeMs`; returns how many were dropped.
    func dropOrphanReceipts(beforeMs: Int64) async throws -> Int
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
    func counts() async throws -> [MessageStatus: Int]
    /// Queued messages by priority (for metrics).
    func queueDepth() async throws -> [Priority: Int]

    // MARK: Accounts and the receipt outbox

    func accounts() async throws -> [AccountRecord]
    /// Inserts or replaces an account's receipt settings.
    func putAccount(_ account: AccountRecord) async throws
    /// An account's receipts due at `nowMs`, oldest first. A message reaching a final state enters the outbox
    /// in the same transaction as the status change (for accounts with a receipt URL), so no crash loses one.
    func dueReceipts(account: String, nowMs: Int64, limit: Int) async throws -> [OutboxReceipt]
    /// Takes receipts (from `dueReceipts`) for one push: those still due at `nowMs` are not due again before
    /// `untilMs`, so no other node pushes them meanwhile. Returns the ids taken.
    func leaseReceipts(ids: [Int64], nowMs: Int64, untilMs: Int64) async throws -> Set<Int64>
    /// Receipts the customer took: they leave the outbox.
    func receiptsPushed(ids: [Int64]) async throws
    /// Receipts to try again later (attempts + 1).
    func receiptsRetry(_ retries: [ReceiptRetry]) async throws
    /// Receipts given up on for now: kept, listed by `parkedReceipts`, sent again by `retryParked`.
    func parkReceipts(ids: [Int64], error: String) async throws
    func parkedReceipts(account: String?, limit: Int) async throws -> [OutboxReceipt]
    /// Moves parked receipts back to the outbox, due at `nowMs`; returns how many.
    func retryParked(account: String?, nowMs: Int64) async throws -> Int
    /// Puts a receipt for every final message matching `filter` in the outbox; returns how many.
    func replayReceipts(_ filter: ReceiptFilter, nowMs: Int64) async throws -> Int
    func outboxCounts() async throws -> OutboxCounts
    func outboxCounts(account: String) async throws -> OutboxCounts

    // MARK: Console

    /// One account's messages matching `query`, newest first.
    func searchMessages(_ query: MessageQuery) async throws -> [Message]
    /// The parts of a message that carriers accepted, with their receipts' outcome.
    func parts(messageId: Int64) async throws -> [PartView]
    /// An account's messages accepted since `sinceMs`, by current status, in buckets of `bucketMs`.
    func statusSeries(account: String, sinceMs: Int64, bucketMs: Int64) async throws -> [StatusBucket]

    // MARK: Campaigns

    /// Stores a campaign (as given, status included) and its valid rows; returns its id.
    func createCampaign(_ campaign: CampaignRecord, rows: [CampaignRow]) async throws -> Int64
    func campaign(id: Int64, account: String) async throws -> CampaignRecord?
    /// Every invalid row of a campaign, one per line.
    func campaignInvalidReport(id: Int64, account: String) async throws -> String?
    func campaigns(account: String) async throws -> [CampaignRecord]
    /// Moves a campaign to `status` if its current status is in `from`; returns whether it moved.
    func setCampaignStatus(id: Int64, account: String, to status: CampaignStatus, from: Set<CampaignStatus>, nowMs: Int64) async throws -> Bool
    /// Running campaigns whose start time has come, oldest first.
    func runnableCampaigns(nowMs: Int64) async throws -> [CampaignRecord]
    /// Up to `limit` rows of a campaign from row index `from` (0-based) on.
    func campaignRows(id: Int64, from: Int, limit: Int) async throws -> [CampaignRow]

    // MARK: Sandbox inbox

    /// Newest first; `account` nil: every account's (the operator's view).
    func sandboxMessages(account: String?, to: String?, limit: Int) async throws -> [SandboxEntry]
    /// `account` nil: every account's.
    func clearSandbox(account: String?) async throws -> Int

    // MARK: Nodes

    /// Takes this process's node number (0..<256, the node field of its message ids) under `name`: the number it
    /// had before when the name is known, else one whose heartbeat stopped `staleMs` ago, else a new one. A store
    /// only one process uses (SQLite) answers 0.
    func registerNode(name: String, nowMs: Int64, staleMs: Int64) async throws -> Int
    /// Keeps this node's number taken; returns how many nodes (this one included) beat within `staleMs`, so
    /// limits meant for the whole system (throttles, channel TPS) can be divided among them.
    func heartbeat(nowMs: Int64, staleMs: Int64) async throws -> Int
    /// Takes or renews up to `want` of a channel's `total` bind slots for this node until `untilMs` (slots other
    /// nodes hold past `nowMs` are theirs); returns how many this node holds. Slots beyond `want` are given back.
    func leaseBindSlots(channel: String, want: Int, total: Int, nowMs: Int64, untilMs: Int64) async throws -> Int
    /// Gives back every bind slot this node holds (at shutdown).
    func releaseBindSlots() async throws

    /// Closes connections; the store is unusable afterwards.
    func close() async throws
}

extension MessageStore {
    public func sandboxMessages(to: String?, limit: Int) async throws -> [SandboxEntry] {
        try await sandboxMessages(account: nil, to: to, limit: limit)
    }

    public func clearSandbox() async throws -> Int { try await clearSandbox(account: nil) }

    public func commit(_ batch: WriteBatch, then: @escaping @Sendable (Result<Void, any Error>) -> Void) {
        Task {
            do {
                try await commit(batch)
                then(.success(()))
            } catch {
                then(.failure(error))
            }
        }
    }

    public func cachedAccessKey(id: String) -> AccessKeyRecord?? { nil }

    /// Two writes (claim, then record); a store that can do it in one overrides this.
    public func claim(
        limit: Int, nowMs: Int64, leaseMs: Int64, sendNow: @escaping @Sendable ([Message]) -> DispatchResults
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
