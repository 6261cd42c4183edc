public import PetrelCore

/// An account's delivery-receipt settings.
public struct AccountRecord: Sendable, Equatable {
    public var name: String
    /// Where receipts are pushed; empty = not pushed.
    public var receiptURL: String
    /// Signs each push (X-Petrel-Signature); stored encrypted.
    public var webhookSecret: String
    public var updatedAtMs: Int64
    /// Where inbound messages are pushed (SmsUp); empty = not pushed. Signed with the same secret.
    public var moURL: String

    public init(name: String, receiptURL: String, webhookSecret: String, updatedAtMs: Int64, moURL: String = "") {
        self.name = name
        self.receiptURL = receiptURL
        self.webhookSecret = webhookSecret
        self.updatedAtMs = updatedAtMs
        self.moURL = moURL
    }
}

/// A receipt waiting in the outbox (or parked there), with the message it reports as it is now.
public struct OutboxReceipt: Sendable, Equatable {
    /// Stable across retries: receivers de-duplicate on it.
    public var id: Int64
    public var account: String
    public var message: Message
    public var attempts: Int
    public var createdAtMs: Int64
    public var lastError: String

    public init(id: Int64, account: String, message: Message, attempts: Int, createdAtMs: Int64, lastError: String = "")
    {
        self.id = id
        self.account = account
        self.message = message
        self.attempts = attempts
        self.createdAtMs = createdAtMs
        self.lastError = lastError
    }
}

/// Which final messages `replayReceipts` pushes again (all given conditions hold).
public struct ReceiptFilter: Sendable, Equatable {
    public var account: String?
    public var messageId: Int64?
    public var taskId: String?
    public var sinceMs: Int64?

    public init(account: String? = nil, messageId: Int64? = nil, taskId: String? = nil, sinceMs: Int64? = nil) {
        self.account = account
        self.messageId = messageId
        self.taskId = taskId
        self.sinceMs = sinceMs
    }
}

/// A retry to schedule for a receipt that was not taken.
public struct ReceiptRetry: Sendable, Equatable {
    public var id: Int64
    /// When the attempt failed.
    public var atMs: Int64
    public var nextAtMs: Int64
    public var error: String

    public init(id: Int64, atMs: Int64, nextAtMs: Int64, error: String) {
        self.id = id
        self.atMs = atMs
        self.nextAtMs = nextAtMs
        self.error = error
    }
}

public struct OutboxCounts: Sendable, Equatable {
    public var pending: Int
    public var parked: Int

    public init(pending: Int, parked: Int) {
        self.pending = pending
        self.parked = parked
    }
}
