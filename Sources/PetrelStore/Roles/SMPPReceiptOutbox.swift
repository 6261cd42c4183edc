public import PetrelCore

/// Receipts owed to ESMEs as deliver_sm (issue 29): a message submitted over SMPP with registered_delivery gets a
/// row when it is accepted; the row becomes ready in the transaction that makes the message final (a trigger on
/// both stores), and leaves when an ESME of its account answers the deliver_sm with ESME_ROK.
public protocol SMPPReceiptOutbox: Sendable {
    /// Records that message `messageID` of `account` wants a receipt (`failuresOnly`: only when it is not
    /// delivered). Ready at once when the message is already final. Called after the accept commits and before
    /// the submit_sm_resp: an id the ESME holds always has its row.
    func requestSMPPReceipts(_ requests: [SMPPReceiptRequest]) async throws
    /// Ready receipts of `accounts` that no node holds at `nowMs`, oldest first, at most `limit`: each is held
    /// (by this node) until `untilMs`, then ready again if it was not acknowledged meanwhile.
    func claimSMPPReceipts(
        accounts: [String],
        nowMs: Int64,
        untilMs: Int64,
        limit: Int
    ) async throws
        -> [SMPPReceipt]
    /// Receipts an ESME acknowledged (or that need no deliver_sm): they leave.
    func smppReceiptsDone(messageIDs: [Int64]) async throws
    /// Receipts of held rows to offer again at once (their bind went before answering).
    func releaseSMPPReceipts(messageIDs: [Int64], nowMs: Int64) async throws
    /// Rows kept for `account`: (ready, waiting for the message to become final).
    func smppReceiptCounts(account: String) async throws -> (ready: Int, waiting: Int)
    /// Rows kept for every account that has any, for the console and /metrics (accounts without rows are absent).
    /// Counted over the whole store: every node of a shared store sees the same figures.
    func smppReceiptCountsByAccount() async throws -> [String: SMPPReceiptCounts]
    /// The same, each figure counted only up to `cap` + 1 (above `cap` means "more than `cap`"), for the console's
    /// refresh: the accounts and each figure are index ranges, so the cost does not grow with the rows kept for an
    /// ESME that never binds.
    func smppReceiptCountsByAccount(cap: Int) async throws -> [String: SMPPReceiptCounts]
}

/// Receipt rows of one account: `ready` are owed now (sent or to be sent, until the ESME acknowledges them),
/// `waiting` wait for their message to become final.
public struct SMPPReceiptCounts: Sendable, Equatable {
    public var ready: Int
    public var waiting: Int

    public init(ready: Int, waiting: Int) {
        self.ready = ready
        self.waiting = waiting
    }
}

public struct SMPPReceiptRequest: Sendable, Equatable {
    public var messageID: Int64
    public var account: String
    public var failuresOnly: Bool

    public init(messageID: Int64, account: String, failuresOnly: Bool = false) {
        self.messageID = messageID
        self.account = account
        self.failuresOnly = failuresOnly
    }
}

/// A ready receipt with what its deliver_sm says.
public struct SMPPReceipt: Sendable, Equatable {
    public var messageID: Int64
    public var account: String
    public var failuresOnly: Bool
    public var status: MessageStatus
    public var errorCode: String
    public var sender: String
    public var recipient: String
    /// The message's first characters (the receipt's `text:` carries 20).
    public var text: String
    public var createdAtMs: Int64
    public var doneAtMs: Int64

    public init(
        messageID: Int64,
        account: String,
        failuresOnly: Bool,
        status: MessageStatus,
        errorCode: String,
        sender: String,
        recipient: String,
        text: String,
        createdAtMs: Int64,
        doneAtMs: Int64
    ) {
        self.messageID = messageID
        self.account = account
        self.failuresOnly = failuresOnly
        self.status = status
        self.errorCode = errorCode
        self.sender = sender
        self.recipient = recipient
        self.text = text
        self.createdAtMs = createdAtMs
        self.doneAtMs = doneAtMs
    }
}
