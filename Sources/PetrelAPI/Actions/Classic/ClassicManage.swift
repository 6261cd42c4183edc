import PetrelCore
import PetrelStore

/// `api.approval` and how many signs and templates an account may register through dysmsapi 2017-05-25.
public struct SignSettings: Sendable, Equatable {
    /// New and modified signs and templates wait for the operator (`petrel signs|templates approve`) when true;
    /// when false they are approved at once.
    public var manualApproval: Bool
    public var maxSignsPerAccount: Int
    public var maxTemplatesPerAccount: Int

    public init(manualApproval: Bool = false, maxSignsPerAccount: Int = 1000, maxTemplatesPerAccount: Int = 10_000) {
        self.manualApproval = manualApproval
        self.maxSignsPerAccount = maxSignsPerAccount
        self.maxTemplatesPerAccount = maxTemplatesPerAccount
    }
}

/// What the sign and template operations share: bounded fields, paging, the audit a new or modified one gets, and
/// their answers in 2017-05-25's shapes.
enum ClassicManage {
    static let maxSignName = 32
    static let maxTemplateName = 64
    static let maxRemark = 500
    static let maxCode = 64

    /// A business refusal: HTTP 200, `Code` other than OK.
    struct Refusal: Error {
        let code: ResponseCode
    }

    static func refuse(_ code: ResponseCode, _ sentence: String) -> Refusal {
        Refusal(code: code.with(sentence))
    }

    /// Runs `body`, answering its refusal as `{Code, Message}`.
    static func answer(_ body: () async throws -> [(String, ResponseValue)]) async throws -> ActionResult {
        do {
            return ActionResult(fields: [("Code", .string("OK")), ("Message", .string("OK"))] + (try await body()))
        } catch let r as Refusal {
            return ClassicSend.rejected(r.code)
        }
    }

    /// A text parameter, at most `max` code points (Characters may carry any number of combining marks).
    static func text(_ call: ActionCall, _ name: String, max: Int, required: Bool) throws -> String {
        let value = required ? try call.params.required(name) : call.params.optional(name) ?? ""
        guard value.unicodeScalars.count <= max else {
            throw refuse(ClassicCode.paramLengthLimit, "\(name) is longer than \(max) characters.")
        }
        // PostgreSQL's text cannot hold NUL: refused here, not failed in the store.
        guard !value.utf8.contains(0) else {
            throw refuse(ClassicCode.invalidParameters, "\(name) must not contain NUL characters.")
        }
        return value
    }

    /// A whole-number parameter in `range`; `fallback` when absent (nil: required).
    static func number(_ call: ActionCall, _ name: String, _ range: ClosedRange<Int>, fallback: Int?) throws -> Int {
        guard let text = call.params.optional(name) else {
            if let fallback { return fallback }
            _ = try call.params.required(name)
            return range.lowerBound
        }
        guard let n = Int(text), range.contains(n) else {
            throw refuse(
                ClassicCode.invalidParameters,
                "\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound)."
            )
        }
        return n
    }

    static func signName(_ call: ActionCall) throws -> String {
        try text(call, "SignName", max: maxSignName, required: true)
    }

    static func templateCode(_ call: ActionCall) throws -> String {
        try text(call, "TemplateCode", max: maxCode, required: true)
    }

    /// PageIndex (from 1) and PageSize (1 to 50, 10 when absent) as an offset and a limit.
    static func page(_ call: ActionCall, index: String = "PageIndex") throws -> (page: Int, size: Int, offset: Int) {
        let page = try number(call, index, 1...1_000_000, fallback: 1)
        let size = try number(call, "PageSize", 1...50, fallback: 10)
        return (page, size, (page - 1) * size)
    }

    /// The state a sign or template the account just made or changed is in.
    static func audit(_ call: ActionCall) -> (state: AuditState, atMs: Int64?) {
        call.env.signs.manualApproval ? (.pending, nil) : (.approved, call.nowMs)
    }

    static func date(_ ms: Int64?, _ call: ActionCall) -> String {
        ms.map { AlibabaDate.plain(ms: $0, offsetSeconds: call.env.dateOffsetSeconds) } ?? ""
    }

    static func sign(_ call: ActionCall, _ name: String) async throws -> SignRecord {
        guard let sign = try await call.env.store.sign(account: call.account, name: name) else {
            throw refuse(ClassicCode.signatureIllegal, "The account has no sign named \(name).")
        }
        return sign
    }

    static func template(_ call: ActionCall, _ code: String) async throws -> TemplateRecord {
        guard let template = try await call.env.store.template(account: call.account, code: code) else {
            throw refuse(ClassicCode.templateIllegal, "The account has no template with the code \(code).")
        }
        return template
    }

    /// The rejection's words (Alibaba's `Reason`), or what it says when there is none.
    static func reason(_ audit: AuditState, _ reason: String) -> String {
        audit == .rejected ? reason : "No audit remarks"
    }

    /// QuerySmsSignList's and QuerySmsTemplateList's `Reason` object.
    static func reasonObject(_ audit: AuditState, _ reason: String, _ at: Int64?, _ call: ActionCall) -> ResponseValue {
        let rejected = audit == .rejected
        return .object([
            ("RejectDate", .string(rejected ? date(at, call) : "")),
            ("RejectInfo", .string(self.reason(audit, reason))),
            ("RejectSubInfo", .string(rejected ? reason : "")),
        ])
    }

    /// GetSmsSign's and GetSmsTemplate's `AuditInfo`.
    static func auditInfo(_ audit: AuditState, _ reason: String, _ at: Int64?, _ call: ActionCall) -> ResponseValue {
        .object([
            ("AuditDate", .string(audit == .pending ? "" : date(at, call))),
            ("RejectInfo", .string(audit == .rejected ? reason : "")),
        ])
    }
}

extension ClassicManage {
    /// Fields a sign is made of, checked: SignSource 0 to 5, SignType 0 (verification codes) or 1 (general).
    static func signFields(_ call: ActionCall, name: String, createdAtMs: Int64) throws -> SignRecord {
        let source = try number(call, "SignSource", 0...5, fallback: 0)
        let type = try number(call, "SignType", 0...1, fallback: 1)
        let remark = try text(call, "Remark", max: maxRemark, required: false)
        let (state, at) = audit(call)
        return SignRecord(
            account: call.account,
            name: name,
            source: source,
            type: type,
            remark: remark,
            audit: state,
            createdAtMs: createdAtMs,
            auditedAtMs: at
        )
    }

    /// Fields a template is made of, checked: TemplateType 0 to 3, its text at most `api.maxTextLength`.
    static func templateFields(_ call: ActionCall, code: String, createdAtMs: Int64) throws -> TemplateRecord {
        let name = try text(call, "TemplateName", max: maxTemplateName, required: true)
        let content = try text(call, "TemplateContent", max: call.env.maxTextLength, required: true)
        let type = try number(call, "TemplateType", 0...3, fallback: nil)
        let remark = try text(call, "Remark", max: maxRemark, required: false)
        let (state, at) = audit(call)
        return TemplateRecord(
            account: call.account,
            code: code,
            text: content,
            createdAtMs: createdAtMs,
            name: name,
            type: type,
            remark: remark,
            audit: state,
            auditedAtMs: at
        )
    }
}
