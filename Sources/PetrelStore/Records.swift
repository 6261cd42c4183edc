public import PetrelCore

/// An access key with its secret in clear; stores keep the secret encrypted.
public struct AccessKeyRecord: Sendable, Equatable {
    public var id: String
    public var secret: String
    public var account: String
    public var name: String
    public var enabled: Bool
    /// RAM-style policy document (JSON); nil means full rights.
    public var policy: String?
    public var createdAtMs: Int64

    public init(
        id: String,
        secret: String,
        account: String,
        name: String,
        enabled: Bool = true,
        policy: String? = nil,
        createdAtMs: Int64
    ) {
        self.id = id
        self.secret = secret
        self.account = account
        self.name = name
        self.enabled = enabled
        self.policy = policy
        self.createdAtMs = createdAtMs
    }
}

/// A template, per account. Those the operator makes (console, `petrel templates add`) are approved; those made
/// through dysmsapi 2017-05-25 (`AddSmsTemplate` …) wait for the operator under `api.approval: manual`.
public struct TemplateRecord: Sendable, Equatable {
    public var account: String
    public var code: String
    public var text: String
    public var createdAtMs: Int64
    /// 2017-05-25's TemplateName, TemplateType (0 verification code, 1 notification, 2 promotion, 3 international)
    /// and Remark.
    public var name: String
    public var type: Int
    public var remark: String
    public var audit: AuditState
    /// Why it was rejected (the operator's words), empty otherwise.
    public var reason: String
    public var auditedAtMs: Int64?

    public init(
        account: String,
        code: String,
        text: String,
        createdAtMs: Int64,
        name: String = "",
        type: Int = 1,
        remark: String = "",
        audit: AuditState = .approved,
        reason: String = "",
        auditedAtMs: Int64? = nil
    ) {
        self.account = account
        self.code = code
        self.text = text
        self.createdAtMs = createdAtMs
        self.name = name
        self.type = type
        self.remark = remark
        self.audit = audit
        self.reason = reason
        self.auditedAtMs = auditedAtMs
    }
}

/// Where a sign or template stands with the operator, who approves them (Alibaba's audit states; each 2017-05-25
/// operation reports them as a number or as `AUDIT_STATE_…`).
public enum AuditState: Int, Sendable, Equatable, CaseIterable {
    case pending = 0
    case approved = 1
    case rejected = 2

    /// QuerySmsSignList's and QuerySmsTemplateList's `AuditStatus`.
    public var alibabaName: String {
        switch self {
        case .pending: "AUDIT_STATE_INIT"
        case .approved: "AUDIT_STATE_PASS"
        case .rejected: "AUDIT_STATE_NOT_PASS"
        }
    }
}

/// A signature (SignName) an account registered through dysmsapi 2017-05-25 (`AddSmsSign` …), or the CLI.
public struct SignRecord: Sendable, Equatable {
    public var account: String
    public var name: String
    /// Alibaba's SignSource (0 company, 1 filed website, 2 app, 3 official account, 4 mini program, 5 trademark)
    /// and SignType (0 verification codes, 1 general): kept and shown, not acted on.
    public var source: Int
    public var type: Int
    public var remark: String
    public var audit: AuditState
    public var reason: String
    public var createdAtMs: Int64
    public var auditedAtMs: Int64?

    public init(
        account: String,
        name: String,
        source: Int = 0,
        type: Int = 1,
        remark: String = "",
        audit: AuditState,
        reason: String = "",
        createdAtMs: Int64,
        auditedAtMs: Int64? = nil
    ) {
        self.account = account
        self.name = name
        self.source = source
        self.type = type
        self.remark = remark
        self.audit = audit
        self.reason = reason
        self.createdAtMs = createdAtMs
        self.auditedAtMs = auditedAtMs
    }
}

/// A signature nonce, remembered until `expiresAtMs` so a replay is refused even after a restart.
public struct NonceRecord: Sendable, Equatable {
    public var hash: Int64
    public var expiresAtMs: Int64

    public init(hash: Int64, expiresAtMs: Int64) {
        self.hash = hash
        self.expiresAtMs = expiresAtMs
    }
}

public struct ConversionRecord: Sendable, Equatable {
    public var account: String
    public var messageId: Int64?
    public var to: String
    public var delivered: Bool
    public var conversionTimeMs: Int64?
    public var receivedAtMs: Int64
    /// Set when `limits.pumpingGuard` counts this report (Delivered true for a message of its Type): the bucket of
    /// the message's send. The store adds it once per message. Not stored with the report.
    public var pumping: PumpingBucket?

    public init(
        account: String,
        messageId: Int64?,
        to: String,
        delivered: Bool,
        conversionTimeMs: Int64?,
        receivedAtMs: Int64,
        pumping: PumpingBucket? = nil
    ) {
        self.pumping = pumping
        self.account = account
        self.messageId = messageId
        self.to = to
        self.delivered = delivered
        self.conversionTimeMs = conversionTimeMs
        self.receivedAtMs = receivedAtMs
    }
}

public struct ConversionDataRecord: Sendable, Equatable {
    public var account: String
    public var rate: Double
    public var reportTimeMs: Int64?
    public var receivedAtMs: Int64

    public init(account: String, rate: Double, reportTimeMs: Int64?, receivedAtMs: Int64) {
        self.account = account
        self.rate = rate
        self.reportTimeMs = reportTimeMs
        self.receivedAtMs = receivedAtMs
    }
}

/// Everything one API request writes, committed in one transaction before its answer.
public struct WriteBatch: Sendable {
    public var nonce: NonceRecord?
    public var messages: [Message]
    public var conversions: [ConversionRecord]
    public var conversionData: [ConversionDataRecord]
    /// Set when the messages are a campaign's chunk: its cursor moves in the same transaction, so a restart
    /// resumes exactly after the last chunk committed.
    public var campaign: CampaignProgress?
    /// The recipients' countries (ISO 3166 alpha-2, "" when unknown), one per message, when the action parsed the
    /// numbers already: the store's limit check uses them instead of parsing every number again.
    public var regions: [String]?

    public init(
        nonce: NonceRecord? = nil,
        messages: [Message] = [],
        conversions: [ConversionRecord] = [],
        conversionData: [ConversionDataRecord] = [],
        campaign: CampaignProgress? = nil,
        regions: [String]? = nil
    ) {
        self.regions = regions
        self.nonce = nonce
        self.messages = messages
        self.conversions = conversions
        self.conversionData = conversionData
        self.campaign = campaign
    }

    public var isEmpty: Bool {
        nonce == nil && messages.isEmpty && conversions.isEmpty && conversionData.isEmpty && campaign == nil
    }
}

/// One part of a message that a carrier accepted, with the id the carrier gave it.
public struct PartRecord: Sendable, Equatable {
    public var part: Int  // 1-based
    public var total: Int
    public var carrierId: String  // as the carrier wrote it

    public init(part: Int, total: Int, carrierId: String) {
        self.part = part
        self.total = total
        self.carrierId = carrierId
    }
}

/// A message handed to a channel: recorded with the carrier's id(s) and, for simulated channels, the receipt
/// the carrier will send and when.
public struct SentRecord: Sendable, Equatable {
    public var id: Int64
    public var channel: String
    public var carrierMessageId: String
    public var sentAtMs: Int64
    public var scheduledReceipt: StatusUpdate?
    /// Parts tracked for receipts; empty for channels that report on the whole message (the sandbox).
    public var parts: [PartRecord]

    public init(
        id: Int64,
        channel: String,
        carrierMessageId: String,
        sentAtMs: Int64,
        scheduledReceipt: StatusUpdate? = nil,
        parts: [PartRecord] = []
    ) {
        self.id = id
        self.channel = channel
        self.carrierMessageId = carrierMessageId
        self.sentAtMs = sentAtMs
        self.scheduledReceipt = scheduledReceipt
        self.parts = parts
    }
}

/// A message its channel could not settle, back to the queue until `notBeforeMs`.
public struct RetryRecord: Sendable, Equatable {
    public var id: Int64
    public var atMs: Int64
    public var notBeforeMs: Int64
    /// Why, in a sentence fragment: "throttled by the carrier (ESME_RTHROTTLED)".
    public var reason: String

    public init(id: Int64, atMs: Int64, notBeforeMs: Int64, reason: String) {
        self.id = id
        self.atMs = atMs
        self.notBeforeMs = notBeforeMs
        self.reason = reason
    }
}

/// Everything one dispatch round learned, recorded in one transaction.
public struct DispatchResults: Sendable, Equatable {
    public var sent: [SentRecord] = []
    public var inbox: [SandboxEntry] = []
    /// Parts accepted of messages that go back to the queue (their other parts will be tried again).
    public var acceptedParts: [SentRecord] = []
    public var failed: [StatusUpdate] = []
    /// Messages to try again, from when and why (the why goes in their history).
    public var retry: [RetryRecord] = []

    public init() {}

    public var isEmpty: Bool {
        sent.isEmpty && inbox.isEmpty && acceptedParts.isEmpty && failed.isEmpty && retry.isEmpty
    }
}

/// A delivery receipt from a carrier, for the part it names.
public struct CarrierReceipt: Sendable, Equatable {
    public var channel: String
    public var carrierId: String
    /// delivered, failed or expired
    public var status: MessageStatus
    public var errorCode: String
    public var atMs: Int64
    /// How the receipt's id relates to the stored submit_sm_resp id, when known for the channel.
    public var reading: CarrierID.Reading

    public init(
        channel: String,
        carrierId: String,
        status: MessageStatus,
        errorCode: String = "",
        atMs: Int64,
        reading: CarrierID.Reading = .same
    ) {
        self.channel = channel
        self.carrierId = carrierId
        self.status = status
        self.errorCode = errorCode
        self.atMs = atMs
        self.reading = reading
    }
}

/// What applying a batch of receipts did.
public struct ReceiptResults: Sendable, Equatable {
    /// Messages that reached a final state.
    public var finished: [StatusUpdate] = []
    /// Receipts that matched a part.
    public var matched = 0
    /// Receipts that matched nothing yet; kept for a while in case their submit_sm_resp is late.
    public var orphaned = 0
    /// Orphans matched through another reading of their id, by channel: evidence of how a carrier writes ids.
    public var readings: [String: [CarrierID.Reading: Int]] = [:]

    public init() {}
}

/// What the sandbox carrier received: its inbox.
public struct SandboxEntry: Sendable, Equatable {
    public var messageId: Int64
    public var account: String
    public var to: String
    public var from: String
    public var text: String
    public var segments: Int
    public var receivedAtMs: Int64
    public var outcome: String

    public init(
        messageId: Int64,
        account: String,
        to: String,
        from: String,
        text: String,
        segments: Int,
        receivedAtMs: Int64,
        outcome: String
    ) {
        self.messageId = messageId
        self.account = account
        self.to = to
        self.from = from
        self.text = text
        self.segments = segments
        self.receivedAtMs = receivedAtMs
        self.outcome = outcome
    }
}

/// One status change in a message's history.
public struct MessageEvent: Sendable, Equatable {
    public var messageId: Int64
    public var status: MessageStatus
    public var atMs: Int64
    public var detail: String

    public init(messageId: Int64, status: MessageStatus, atMs: Int64, detail: String) {
        self.messageId = messageId
        self.status = status
        self.atMs = atMs
        self.detail = detail
    }
}
