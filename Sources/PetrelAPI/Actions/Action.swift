public import PetrelCore
public import PetrelStore

/// The store roles the gateway and its actions use: the accept path, read-backs, keys and templates.
public typealias GatewayStore = AcceptLog & MessageLookup & KeyStore & TemplateStore & SendLimitLog & ClassicQueries
    & SignStore

/// What actions need from the rest of Petrel.
public struct APIEnvironment: Sendable {
    public var store: any GatewayStore
    public var ids: MessageIDGenerator
    /// Valid `ChannelId` values.
    public var channels: @Sendable () -> Set<String>
    /// Offset of SendDate / ReceiveDate, in seconds east of UTC (Alibaba answers in +0800).
    public var dateOffsetSeconds: Int
    /// Validity of a message sent without ValidityPeriod; nil for none.
    public var defaultValidityMs: Int64?
    /// Longest accepted text, in characters.
    public var maxTextLength: Int
    /// Called after messages were committed, to wake the dispatcher.
    public var onAccepted: @Sendable (Int) -> Void
    /// An account's `limits:`; nil when it has none (its accepts then cost nothing more).
    public var limits: @Sendable (String) -> SendLimits?
    /// The `limits.pumpingGuard` halts in force, refreshed from the store in the background.
    public var halts: PumpingHaltBoard
    /// The suppression lists (opt-outs) as this node last read them.
    public var optOut: OptOutBoard
    /// `api.approval` and the caps on 2017-05-25's AddSmsSign / AddSmsTemplate.
    public var signs: SignSettings

    public init(
        store: any GatewayStore,
        ids: MessageIDGenerator,
        channels: @escaping @Sendable () -> Set<String>,
        dateOffsetSeconds: Int = 8 * 3600,
        defaultValidityMs: Int64? = 48 * 3600 * 1000,
        maxTextLength: Int = 1600,
        onAccepted: @escaping @Sendable (Int) -> Void = { _ in },
        limits: @escaping @Sendable (String) -> SendLimits? = { _ in nil },
        halts: PumpingHaltBoard = PumpingHaltBoard(),
        optOut: OptOutBoard = OptOutBoard(),
        signs: SignSettings = SignSettings()
    ) {
        self.signs = signs
        self.halts = halts
        self.optOut = optOut
        self.store = store
        self.ids = ids
        self.channels = channels
        self.dateOffsetSeconds = dateOffsetSeconds
        self.defaultValidityMs = defaultValidityMs
        self.maxTextLength = maxTextLength
        self.onAccepted = onAccepted
        self.limits = limits
    }
}

/// One authenticated call of an action.
public struct ActionCall: Sendable {
    public var params: Parameters
    public var account: String
    public var requestId: String
    public var nowMs: Int64
    public var env: APIEnvironment
    /// Petrel's own confirmation of an opt-out: it goes to the phone that just opted out.
    public var optOutExempt = false

    /// The refusal when `number` opted out of this account's messages of `type` (nil: it may receive them).
    func optOutRefusal(_ number: PhoneNumber, type: MessageType) -> ResponseCode? {
        optOutExempt ? nil : env.optOut.refusal(account: account, number: number, type: type)
    }
}

/// An action's answer and what must be durable before it is sent.
public struct ActionResult: Sendable {
    public var fields: [(String, ResponseValue)]
    public var writes: WriteBatch
    /// Set by a send whose account has `limits.perNumber` or `limits.caps`: the store checks its messages as it commits them, and
    /// this rewrites the answer from the refusals (one per message of `writes`, nil for one stored).
    public var limited: Limited?

    public struct Limited: Sendable {
        public var limits: SendLimits
        public var answer: @Sendable ([ResponseCode?]) -> [(String, ResponseValue)]
    }

    public init(fields: [(String, ResponseValue)], writes: WriteBatch = WriteBatch(), limited: Limited? = nil) {
        self.fields = fields
        self.writes = writes
        self.limited = limited
    }

    /// A business outcome other than OK: HTTP 200, the code in ResponseCode.
    public static func rejected(_ code: ResponseCode, _ extra: [(String, ResponseValue)] = []) -> ActionResult {
        ActionResult(
            fields: [("ResponseCode", .string(code.code)), ("ResponseDescription", .string(code.description))] + extra
        )
    }
}

public protocol RPCAction: Sendable {
    static var name: String { get }
    /// The API version it belongs to; 2018-05-01 unless it says otherwise.
    static var version: APIVersion { get }
    func run(_ call: ActionCall) async throws -> ActionResult
}

extension RPCAction {
    public static var version: APIVersion { .intl }
}

/// Actions are found by version and name: 2018-05-01's by their name alone (as the console and campaigns ask for
/// them), the others' as "2017-05-25/SendSms".
enum ActionKey {
    static func make(_ version: APIVersion, _ name: String) -> String {
        version == .intl ? name : version.name + "/" + name
    }

    static func of(_ action: any RPCAction) -> String {
        let type = type(of: action)
        return make(type.version, type.name)
    }
}

/// An action that reads nothing from the store: the gateway runs it on the request's event loop, without a task
/// (the sends, so the fast lane stays fast).
public protocol ImmediateRPCAction: RPCAction {
    func runNow(_ call: ActionCall) throws -> ActionResult
}

extension ImmediateRPCAction {
    public func run(_ call: ActionCall) async throws -> ActionResult { try runNow(call) }
}

/// An action that runs on the request's event loop when what it reads of the store is in this node's memory (the
/// template sends: their template and signs), and in a task (`run`) when it is not.
public protocol CachedRPCAction: RPCAction {
    /// The result, or nil when something must be read from the store first (then the gateway calls `run`).
    func runIfCached(_ call: ActionCall) throws -> ActionResult?
}

/// Validation shared by the send actions.
enum SendRules {
    struct Common {
        var from: String
        var type: MessageType
        var taskId: String
        var channel: String
        var validityMs: Int64?
    }

    /// Checks From, Type, TaskId, ValidityPeriod and ChannelId; a business rejection when one is invalid.
    static func common(
        _ call: ActionCall,
        allowedTypes: Set<MessageType>,
        checkSender: Bool = true
    ) -> Result<Common, ResponseCode> {
        let p = call.params
        let from = p.optional("From") ?? ""
        if checkSender, !from.isEmpty, !SenderID.isValid(from) {
            return .failure(
                ResponseCode.invalidSenderID.with(
                    "The sender ID must be letters and digits only: at most 11 characters with a letter, 15 if only digits."
                )
            )
        }
        var type = MessageType.notify
        if let t = p.optional("Type") {
            guard let parsed = MessageType(parameter: t), allowedTypes.contains(parsed) else {
                let names = allowedTypes.map(\.rawValue).sorted().joined(separator: ", ")
                return .failure(ResponseCode.invalidParameters.with("Type must be one of \(names)."))
            }
            type = parsed
        }
        let taskId = p.optional("TaskId") ?? ""
        // Code points, not Characters (one may carry thousands of combining marks): every message stores TaskId.
        if taskId.unicodeScalars.count > 255 {
            return .failure(ResponseCode.invalidParameters.with("TaskId must be 1 to 255 characters long."))
        }
        var validityMs = call.env.defaultValidityMs
        if let v = p.optional("ValidityPeriod") {
            guard let seconds = Int64(v), seconds > 0, seconds <= 31_536_000 else {
                return .failure(
                    ResponseCode.invalidParameters.with(
                        "ValidityPeriod must be a whole number of seconds between 1 and 31536000."
                    )
                )
            }
            validityMs = seconds * 1000
        }
        let channel = p.optional("ChannelId") ?? ""
        if !channel.isEmpty, !call.env.channels().contains(channel) {
            return .failure(ResponseCode.invalidParameters.with("ChannelId \(channel) is not a configured channel."))
        }
        return .success(Common(from: from, type: type, taskId: taskId, channel: channel, validityMs: validityMs))
    }

    static func message(
        id: Int64,
        call: ActionCall,
        to: String,
        text: String,
        common: Common,
        single: Bool,
        sms: SMSText
    ) -> Message {
        Message(
            id: id,
            account: call.account,
            to: to,
            from: common.from,
            text: text,
            type: common.type,
            taskId: common.taskId,
            requestedChannel: common.channel,
            priority: Priority(type: common.type, single: single),
            segments: sms.segments,
            encoding: sms.encoding,
            createdAtMs: call.nowMs,
            expiresAtMs: common.validityMs.map { call.nowMs + $0 }
        )
    }

    /// A single send under `limits.perNumber` or `limits.caps`: refused by the store, it answers the refusal and stores nothing.
    static func limitedSingle(
        _ result: ActionResult,
        limits: SendLimits?,
        echo: [(String, ResponseValue)]
    ) -> ActionResult {
        guard let limits, let m = result.writes.messages.first, limits.checks(to: m.to, type: m.type) else {
            return result
        }
        var limited = result
        let fields = result.fields
        limited.limited = ActionResult.Limited(limits: limits) { refusals in
            guard let refusal = refusals.first ?? nil else { return fields }
            return ActionResult.rejected(refusal, echo).fields
        }
        return limited
    }

    static func numberDetail(_ d: NumberDetail) -> ResponseValue {
        .object([("Carrier", .string(d.carrier)), ("Country", .string(d.country)), ("Region", .string(d.region))])
    }
}
