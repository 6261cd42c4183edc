public import PetrelCore

/// What a recorded event (a `message_events` row) says, beyond a status change; stored as its number.
public enum HistoryEventKind: Int, Sendable, CaseIterable {
    /// A failure or expiry with its reason (the only kind recorded before "v10-history").
    case status = 0
    /// The channel could not settle it (throttled, a temporary error, no answer): queued again until `untilMs`.
    case retried = 1
    /// Its claim's lease ran out (a node stopped or restarted mid-dispatch): queued again.
    case requeued = 2
    case receiptPushed = 3
    case receiptRetry = 4
    case receiptParked = 5
    /// An operator sent its receipt again (a parked one retried, or a replay).
    case receiptReplayed = 6

    /// Retries and lease requeues kept per message: past this many, the newest row of its kind is rewritten, so a
    /// message retried every second for days (a route whose channels are down) keeps a bounded history that still
    /// ends with the latest reason.
    public static let maxRowsPerMessage = 20
}

/// One recorded event, as the store keeps it.
public struct HistoryEvent: Sendable, Equatable {
    public var kind: HistoryEventKind
    public var status: MessageStatus
    public var atMs: Int64
    public var untilMs: Int64?
    public var detail: String

    public init(kind: HistoryEventKind, status: MessageStatus, atMs: Int64, untilMs: Int64? = nil, detail: String) {
        self.kind = kind
        self.status = status
        self.atMs = atMs
        self.untilMs = untilMs
        self.detail = detail
    }
}

/// A receipt waiting in the outbox for its push.
public struct PendingReceipt: Sendable, Equatable {
    public var createdAtMs: Int64
    public var nextAtMs: Int64
    public var attempts: Int
    public var parked: Bool
    public var lastError: String

    public init(createdAtMs: Int64, nextAtMs: Int64, attempts: Int, parked: Bool, lastError: String) {
        self.createdAtMs = createdAtMs
        self.nextAtMs = nextAtMs
        self.attempts = attempts
        self.parked = parked
        self.lastError = lastError
    }
}

/// One line of a message's timeline.
public struct TimelineEntry: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case accepted, submitted, retried, requeued, delivered, failed, expired
        case receiptPushed = "receipt-pushed"
        case receiptRetry = "receipt-retry"
        case receiptParked = "receipt-parked"
        case receiptReplayed = "receipt-replayed"
        case receiptPending = "receipt-pending"
    }

    public var atMs: Int64
    public var kind: Kind
    /// When it goes on: a retry's time, a scheduled message's start, a receipt's next push.
    public var untilMs: Int64?
    public var detail: String

    public init(atMs: Int64, kind: Kind, untilMs: Int64? = nil, detail: String) {
        self.atMs = atMs
        self.kind = kind
        self.untilMs = untilMs
        self.detail = detail
    }
}

/// A message and its timeline.
public struct MessageTimeline: Sendable, Equatable {
    public var message: Message
    public var entries: [TimelineEntry]

    public init(message: Message, entries: [TimelineEntry]) {
        self.message = message
        self.entries = entries
    }
}
