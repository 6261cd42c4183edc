public import PetrelCore

/// Inbound messages (customers' replies): their parts as carriers delivered them, the messages assembled from them,
/// and the outbox of messages to push to each account's `moUrl`.
public protocol InboundLog: Sendable {
    /// Stores parts in one transaction: a part whose fingerprint was stored within `rules.duplicateWindowMs` is a
    /// duplicate and changes nothing; a whole message, or the last missing part of one, becomes an inbound message
    /// (in the outbox too when its account has an inbound URL). Pending parts beyond `rules.maxPendingParts` are
    /// released, oldest first, as incomplete messages. Durable when it returns: the carrier may be acknowledged.
    func storeInbound(_ parts: [InboundPart], rules: InboundRules, nowMs: Int64) async throws -> InboundStored
    /// Releases the groups whose oldest pending part came before `olderThanMs`: each becomes one message, marked
    /// incomplete, with the parts that came. Returns the messages made.
    func releaseInboundParts(olderThanMs: Int64, rules: InboundRules, nowMs: Int64) async throws -> Int
    /// Forgets the fingerprints of assembled parts received before `beforeMs` (past the duplicate window).
    func pruneInboundParts(beforeMs: Int64) async throws -> Int
    /// Deletes up to `limit` of the oldest inbound messages received before `receivedBeforeMs` (and their outbox rows,
    /// pushed or not); returns how many. Looks at the oldest `limit` only, so a call costs the same with nothing to do.
    func purgeInbound(receivedBeforeMs: Int64, limit: Int) async throws -> Int
    /// Newest first.
    func inboundMessages(account: String?, from: String?, limit: Int) async throws -> [InboundMessage]
    /// One account's, newest first, each with where its push stands (the console's inbound page).
    func inboundWithPush(account: String, from: String?, limit: Int) async throws -> [InboundRow]
    func pendingInboundParts() async throws -> Int

    /// The outbox, worked like the receipt outbox (`ReceiptOutbox`): due, leased, pushed, retried, parked.
    func dueInbound(account: String, nowMs: Int64, limit: Int) async throws -> [OutboxInbound]
    func leaseInbound(ids: [Int64], nowMs: Int64, untilMs: Int64) async throws -> Set<Int64>
    func inboundPushed(ids: [Int64], nowMs: Int64) async throws
    func inboundRetry(_ retries: [ReceiptRetry]) async throws
    func parkInbound(ids: [Int64], error: String, nowMs: Int64) async throws
    /// Moves parked inbound messages back to the outbox, due at `nowMs`; returns how many.
    func retryParkedInbound(account: String?, nowMs: Int64) async throws -> Int
    func inboundOutboxCounts() async throws -> OutboxCounts
}

/// How inbound messages are kept and given to accounts.
public struct InboundRules: Sendable, Equatable {
    /// The account of a message whose destination `inbound:` does not name and whose phone no account sent to.
    public var defaultAccount = "default"
    /// A reply belongs to the account that last sent to its phone within this time.
    public var replyWindowMs: Int64 = 7 * 86_400_000
    /// The same part again within this time is a duplicate.
    public var duplicateWindowMs: Int64 = 300_000
    /// Parts waiting for their siblings, at most; beyond, the oldest groups are released incomplete.
    public var maxPendingParts = 10_000
    /// A whole message that is one of these keywords puts its phone on its account's suppression list (or takes it
    /// off), in the transaction that stores it; nil: none is read.
    public var optOut: OptOutKeywords? = OptOutKeywords()
    /// `optOut.maxPhones`: beyond, an opt-out keyword is stored as a message and changes no list.
    public var maxOptOutPhones = 1_000_000

    public init() {}
}

public struct InboundStored: Sendable, Equatable {
    /// Messages made (whole, assembled or released).
    public var messages = 0
    public var duplicates = 0
    /// Parts now waiting for siblings (stored by this call).
    public var pending = 0
    /// Lists changed by keywords (see `InboundRules.optOut`); a keyword that changed nothing (STOP again) is not here.
    public var optOuts: [OptOutChange] = []
    /// Opt-out keywords that changed no list: `maxOptOutPhones` was reached.
    public var optOutsRefused = 0

    public init(messages: Int = 0, duplicates: Int = 0, pending: Int = 0) {
        self.messages = messages
        self.duplicates = duplicates
        self.pending = pending
    }
}

/// An inbound message and where its SmsUp push stands.
public struct InboundRow: Sendable, Equatable {
    public enum Push: Sendable, Equatable {
        /// Its account had no `moUrl` when it came: kept, not pushed.
        case none
        case waiting(attempts: Int, lastError: String)
        case parked(attempts: Int, lastError: String)
        case pushed(atMs: Int64)
    }

    public var message: InboundMessage
    public var push: Push

    public init(message: InboundMessage, push: Push) {
        self.message = message
        self.push = push
    }

    /// From the outbox row's columns (nil state: no row).
    public init(message: InboundMessage, state: Int?, attempts: Int, lastError: String, nextAtMs: Int64) {
        self.message = message
        switch state {
        case nil: push = .none
        case 0?: push = .waiting(attempts: attempts, lastError: lastError)
        case 1?: push = .parked(attempts: attempts, lastError: lastError)
        default: push = .pushed(atMs: nextAtMs)
        }
    }
}

/// An inbound message waiting in the outbox (or parked there). Its `message.id` is the SmsUp `sequence_id`.
public struct OutboxInbound: Sendable, Equatable {
    public var id: Int64
    public var message: InboundMessage
    public var attempts: Int
    public var createdAtMs: Int64
    public var lastError: String

    public init(id: Int64, message: InboundMessage, attempts: Int, createdAtMs: Int64, lastError: String = "") {
        self.id = id
        self.message = message
        self.attempts = attempts
        self.createdAtMs = createdAtMs
        self.lastError = lastError
    }
}
