/// One SMS to one recipient, as Petrel stores it.
public struct Message: Sendable, Equatable {
    public var id: Int64
    public var account: String
    public var to: String  // E.164 digits without "+"
    public var from: String
    public var text: String
    public var type: MessageType
    public var taskId: String
    public var requestedChannel: String  // ChannelId asked for by the client, "" for any
    public var priority: Priority
    public var segments: Int
    public var encoding: SMSText.Encoding
    public var status: MessageStatus
    public var errorCode: String
    public var errorDescription: String
    public var createdAtMs: Int64
    public var notBeforeMs: Int64  // not handed to a channel before this time
    public var expiresAtMs: Int64?  // from ValidityPeriod; nil = no limit
    public var sentAtMs: Int64?  // handed to the carrier
    public var doneAtMs: Int64?  // reached a final state
    public var channel: String  // channel that took it, "" while queued
    public var carrierMessageId: String
    /// The API it was sent through (`QueryMessage` sees 2018's, `QuerySendDetails` 2017's).
    public var api: APIVersion
    /// The template it was rendered from (2017-05-25's `TemplateCode`), "" for none.
    public var templateCode: String
    /// 2017-05-25: the first message id of the request that sent it, which its `BizId` names; 0 for none.
    public var bizId: Int64
    /// 2017-05-25's `SmsUpExtendCode` (digits, "" for none): a reply to this message is pushed with it as
    /// SmsUp's `dest_code`. Stored, not read back with the message.
    public var extendCode: String

    public init(
        id: Int64,
        account: String,
        to: String,
        from: String = "",
        text: String,
        type: MessageType = .notify,
        taskId: String = "",
        requestedChannel: String = "",
        priority: Priority = .normal,
        segments: Int = 1,
        encoding: SMSText.Encoding = .gsm7,
        status: MessageStatus = .queued,
        errorCode: String = "",
        errorDescription: String = "",
        createdAtMs: Int64,
        notBeforeMs: Int64? = nil,
        expiresAtMs: Int64? = nil,
        sentAtMs: Int64? = nil,
        doneAtMs: Int64? = nil,
        channel: String = "",
        carrierMessageId: String = "",
        api: APIVersion = .intl,
        templateCode: String = "",
        bizId: Int64 = 0,
        extendCode: String = ""
    ) {
        self.id = id
        self.account = account
        self.to = to
        self.from = from
        self.text = text
        self.type = type
        self.taskId = taskId
        self.requestedChannel = requestedChannel
        self.priority = priority
        self.segments = segments
        self.encoding = encoding
        self.status = status
        self.errorCode = errorCode
        self.errorDescription = errorDescription
        self.createdAtMs = createdAtMs
        self.notBeforeMs = notBeforeMs ?? createdAtMs
        self.expiresAtMs = expiresAtMs
        self.sentAtMs = sentAtMs
        self.doneAtMs = doneAtMs
        self.channel = channel
        self.carrierMessageId = carrierMessageId
        self.api = api
        self.templateCode = templateCode
        self.bizId = bizId
        self.extendCode = extendCode
    }
}

/// A status change to apply to a stored message.
public struct StatusUpdate: Sendable, Equatable {
    public var id: Int64
    public var status: MessageStatus
    public var errorCode: String
    public var errorDescription: String
    public var atMs: Int64

    public init(id: Int64, status: MessageStatus, errorCode: String = "", errorDescription: String = "", atMs: Int64) {
        self.id = id
        self.status = status
        self.errorCode = errorCode
        self.errorDescription = errorDescription
        self.atMs = atMs
    }
}
