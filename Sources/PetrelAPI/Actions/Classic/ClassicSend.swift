import PetrelCore
import PetrelStore

/// What SendSms and SendBatchSms share: one template, rendered per recipient with its signature and values, checked
/// all or nothing (Alibaba answers one Code for the request), then stored through the same accept path as the
/// 2018-05-01 sends, limits included.
struct ClassicSend {
    static let maxRecipients = 1000

    struct Recipient {
        var raw: String
        var sign: String
        var values: [String: String]
        /// SmsUpExtendCode (SendSms) or its place in SmsUpExtendCodeJson (SendBatchSms); "" for none.
        var extendCode = ""
    }

    /// A request read: refused already, or a template to send to recipients.
    enum Request {
        case rejected(ActionResult)
        /// `uniform`: every recipient has the same sign and values (SendSms).
        case send(templateCode: String, [Recipient], uniform: Bool)

        static func refused(_ code: ResponseCode) -> Request { .rejected(ClassicSend.rejected(code)) }
    }

    /// The answer of a send that failed before anything was stored.
    static func rejected(_ code: ResponseCode) -> ActionResult {
        ActionResult(fields: [("Code", .string(code.code)), ("Message", .string(code.description))])
    }

    /// `request` sent, with the template and signs read from the store.
    static func send(_ call: ActionCall, _ request: Request) async throws -> ActionResult {
        switch request {
        case .rejected(let answer): return answer
        case .send(let code, let recipients, let uniform):
            let catalog = try await Catalog.read(call, template: lookup(code), signs: signNames(recipients, uniform))
            return try send(call, templateCode: code, recipients, catalog, uniform: uniform)
        }
    }

    /// `request` sent on the calling thread, when its template and signs are in memory; nil when they are not.
    static func sendIfCached(_ call: ActionCall, _ request: Request) throws -> ActionResult? {
        switch request {
        case .rejected(let answer): return answer
        case .send(let code, let recipients, let uniform):
            let signs = signNames(recipients, uniform)
            guard let catalog = Catalog.cached(call, template: lookup(code), signs: signs) else { return nil }
            return try send(call, templateCode: code, recipients, catalog, uniform: uniform)
        }
    }

    /// The code to look up; nil for one that names nothing (a NUL, which PostgreSQL's text cannot be asked for).
    static func lookup(_ code: String) -> String? { code.utf8.contains(0) ? nil : code }

    /// The signatures `send` asks about: those that pass its checks, of a list it does not refuse for its length.
    static func signNames(_ recipients: [Recipient], _ uniform: Bool) -> [String] {
        guard recipients.count <= maxRecipients else { return [] }
        return (uniform ? Array(recipients.prefix(1)) : recipients).map(\.sign).filter(isSignName)
    }

    /// (Characters are counted only past 32 bytes: every send asks, and grapheme breaking is not free.)
    static func isSignName(_ s: String) -> Bool {
        !s.isEmpty && (s.utf8.count <= 32 || s.count <= 32) && !s.utf8.contains(0)
    }

    /// Renders and checks every recipient, then the messages for the store (a business rejection, in 2017-05-25's
    /// codes, for the first that cannot go).
    static func send(
        _ call: ActionCall,
        templateCode: String,
        _ recipients: [Recipient],
        _ catalog: Catalog,
        uniform: Bool
    ) throws -> ActionResult {
        guard recipients.count <= maxRecipients else {
            return rejected(
                ClassicCode.mobileCountOverLimit.with(
                    "\(recipients.count) numbers were given; at most \(maxRecipients) are allowed per request."
                )
            )
        }
        let outId = call.params.optional("OutId") ?? ""
        // Counted in code points, not Characters: one Character may carry any number of combining marks, and every
        // message of the send (up to 1,000) stores the OutId.
        if outId.unicodeScalars.count > 255 {
            return rejected(ClassicCode.invalidParameters.with("OutId is longer than 255 characters."))
        }
        guard lookup(templateCode) != nil, let template = catalog.template else {
            return rejected(ClassicCode.templateIllegal.with("No template has the code \(templateCode)."))
        }
        guard template.audit == .approved else {
            return rejected(
                ClassicCode.templateIllegal.with(Catalog.notApproved("template \(templateCode)", template.audit))
            )
        }
        let limits = call.env.limits(call.account)
        var pending: [(number: PhoneNumber, text: String, from: String, sms: SMSText, ext: String)] = []
        pending.reserveCapacity(recipients.count)
        var once: Rendered?
        for r in recipients {
            guard case .success(let number) = PhoneNumber.parseClassic(r.raw) else {
                return rejected(ClassicCode.mobileNumberIllegal.with("\(r.raw) is not a valid mobile number."))
            }
            guard r.extendCode.utf8.count <= 12, r.extendCode.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else {
                return rejected(ClassicCode.invalidParameters.with("SmsUpExtendCode must be at most 12 digits."))
            }
            // SendSms's recipients share one sign and one set of values: the text is made once.
            let made: Rendered
            if uniform, let first = once {
                made = first
            } else {
                switch try render(r, template, catalog, maxUnits: call.env.maxTextLength) {
                case .success(let m): made = m
                case .failure(let refusal): return rejected(refusal)
                }
                once = made
            }
            pending.append((number, made.text, made.from, made.sms, r.extendCode))
        }

        // Limits that need no store (countries, pumping halts) refuse a recipient as the store's would.
        var answer = Answer(count: pending.count)
        var kept: [(number: PhoneNumber, text: String, from: String, sms: SMSText, ext: String)] = []
        kept.reserveCapacity(pending.count)
        let screen = RecipientScreen(limits, type: .notify)
        for p in pending {
            if let refusal = screen?.refusal(account: call.account, p.number, halts: call.env.halts)
                ?? call.optOutRefusal(p.number, type: .notify)
            {
                answer.refused(refusal)
            } else {
                kept.append(p)
            }
        }
        let ids = call.env.ids.next(kept.count, nowMs: call.nowMs)
        // Alibaba's form, `…^0`; the number is the first message's id, which every message of the send keeps.
        let bizId = ids.first ?? 0
        answer.bizId = ids.isEmpty ? "" : QuerySendDetails.bizIdText(bizId)
        let single = recipients.count == 1
        let messages = zip(ids, kept).map { id, k in
            var m = SendRules.message(
                id: id,
                call: call,
                to: k.number.digits,
                text: k.text,
                common: SendRules.Common(
                    from: k.from,
                    type: .notify,
                    taskId: outId,
                    channel: "",
                    validityMs: call.env.defaultValidityMs
                ),
                single: single,
                sms: k.sms
            )
            m.api = .classic
            m.templateCode = templateCode
            m.bizId = bizId
            m.extendCode = k.ext
            return m
        }
        let none = [ResponseCode?](repeating: nil, count: messages.count)
        let writes = WriteBatch(messages: messages)
        guard let limits, messages.contains(where: { limits.checks(to: $0.to, type: $0.type) }) else {
            return ActionResult(fields: answer.fields(none), writes: writes)
        }
        return ActionResult(
            fields: answer.fields(none),
            writes: writes,
            limited: ActionResult.Limited(limits: limits) { [answer] in answer.fields($0) }
        )
    }

    /// A recipient's text as it will go, with its sender.
    struct Rendered {
        var from: String
        var text: String
        var sms: SMSText
    }

    /// The recipient's signature checked and the template filled with its values; the refusal for the first check
    /// that fails.
    static func render(
        _ r: Recipient,
        _ template: TemplateRecord,
        _ catalog: Catalog,
        maxUnits: Int
    ) throws -> Result<Rendered, ResponseCode> {
        guard isSignName(r.sign) else {
            return .failure(ClassicCode.signatureIllegal.with("SignName must be 1 to 32 characters long."))
        }
        if let why = try catalog.problem(r.sign) {
            return .failure(ClassicCode.signatureIllegal.with(why))
        }
        // A value no message could hold is refused before rendering: a template may repeat a variable hundreds of
        // times, and each copy of a value as long as the request would be built first. A character is at most 3
        // UTF-8 bytes per unit it takes (GSM septet or UCS-2 code unit).
        if r.values.values.contains(where: { $0.utf8.count > 3 * maxUnits }) {
            return .failure(
                ClassicCode.paramLengthLimit.with(
                    "A template variable's value is longer than a message may be (\(maxUnits) characters)."
                )
            )
        }
        let body: String
        switch Template.render(template.text, values: r.values) {
        case .success(let text): body = text
        case .failure(.missingValue(let name)):
            return .failure(
                ClassicCode.templateMissingParameters.with("The template variable ${\(name)} has no value.")
            )
        }
        // A signature that is a valid sender ID travels as the sender; any other (【Brand】) leads the text, as
        // mainland carriers expect (as SendMessageWithTemplate does).
        let (from, text) = SenderID.isValid(r.sign) ? (r.sign, body) : ("", "【\(r.sign)】" + body)
        let sms = SMSText(text)
        if let why = sms.lengthProblem(maxUnits: maxUnits) {
            return .failure(ClassicCode.paramLengthLimit.with("The rendered template is too long. \(why)"))
        }
        return .success(Rendered(from: from, text: text, sms: sms))
    }

    /// `{Code, Message, BizId}` from the recipients the limits refused, before the store and in it.
    struct Answer: Sendable {
        var count: Int
        var bizId = ""
        var refusals: [ResponseCode] = []

        mutating func refused(_ code: ResponseCode) { refusals.append(code) }

        func fields(_ store: [ResponseCode?]) -> [(String, ResponseValue)] {
            let all = refusals + store.compactMap { $0 }
            guard let first = all.first else {
                return [("Code", .string("OK")), ("Message", .string("OK")), ("BizId", .string(bizId))]
            }
            let code = ClassicCode.from(first)
            guard all.count < count else {
                return [("Code", .string(code.code)), ("Message", .string(code.description))]
            }
            // Some went: the request is accepted (its BizId finds them); the message says which limit held the others.
            let note = "OK: \(all.count) of \(count) numbers were refused by limits (\(code.code): \(code.description))"
            return [("Code", .string("OK")), ("Message", .string(note)), ("BizId", .string(bizId))]
        }
    }
}
