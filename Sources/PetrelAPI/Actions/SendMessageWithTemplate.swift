import Foundation
import PetrelCore
import PetrelStore

/// Sends a registered template (`petrel templates add`) filled with TemplateParam; the Chinese mainland is allowed.
public struct SendMessageWithTemplate: CachedRPCAction {
    public static let name = "SendMessageWithTemplate"

    public init() {}

    public func run(_ call: ActionCall) async throws -> ActionResult {
        let (code, sign) = try names(call)
        return try send(call, try await Catalog.read(call, template: code, signs: sign.map { [$0] } ?? []))
    }

    public func runIfCached(_ call: ActionCall) throws -> ActionResult? {
        let (code, sign) = try names(call)
        guard let catalog = Catalog.cached(call, template: code, signs: sign.map { [$0] } ?? []) else { return nil }
        return try send(call, catalog)
    }

    /// The template code and the signature `send` looks up (those its checks let through).
    func names(_ call: ActionCall) throws -> (code: String?, sign: String?) {
        _ = try call.params.required("To")
        let from = try call.params.required("From")
        let code = try call.params.required("TemplateCode")
        let sign = from.unicodeScalars.count <= 32 && !from.utf8.contains(0) ? from : nil
        return (ClassicSend.lookup(code), sign)
    }

    func send(_ call: ActionCall, _ catalog: Catalog) throws -> ActionResult {
        let to = try call.params.required("To")
        let from = try call.params.required("From")
        let code = try call.params.required("TemplateCode")
        let echo: [(String, ResponseValue)] = [("To", .string(to))]

        // Code points, not Characters: one Character may carry any number of combining marks, and From is stored.
        guard from.unicodeScalars.count <= 32 else {
            return .rejected(
                ResponseCode.smsSignNameIllegal.with("From (the signature) is longer than 32 characters."),
                echo
            )
        }
        if let ext = call.params.optional("SmsUpExtendCode"), ext.count > 12 || !ext.allSatisfy(\.isASCIIDigit) {
            return .rejected(ResponseCode.invalidParameters.with("SmsUpExtendCode must be at most 12 digits."), echo)
        }
        let common: SendRules.Common
        switch SendRules.common(call, allowedTypes: [.otp, .notify, .mkt], checkSender: false) {
        case .success(let c): common = c
        case .failure(let rejection): return .rejected(rejection, echo)
        }
        let number: PhoneNumber
        switch PhoneNumber.parse(to) {
        case .success(let n): number = n
        case .failure:
            return .rejected(
                ResponseCode.mobileNumberIllegal.with("To is not a valid international number: \(to)."),
                echo
            )
        }
        let limits = call.env.limits(call.account)
        if let refusal = limits?.countryRefusal(number) { return .rejected(refusal, echo) }
        if let refusal = limits?.haltRefusal(account: call.account, number, type: common.type, halts: call.env.halts) {
            return .rejected(refusal, echo)
        }
        if let refusal = call.optOutRefusal(number, type: common.type) { return .rejected(refusal, echo) }
        // A NUL names nothing (and PostgreSQL's text cannot be asked for it: the lookup would fail the request).
        guard ClassicSend.lookup(code) != nil, let template = catalog.template else {
            return .rejected(ResponseCode.smsContentCodeIllegal.with("No template has the code \(code)."), echo)
        }
        // One made through 2017-05-25's AddSmsTemplate waits for the operator under api.approval: manual.
        guard template.audit == .approved else {
            let why = Catalog.notApproved("template \(code)", template.audit)
            return .rejected(ResponseCode.smsContentCodeIllegal.with(why), echo)
        }
        // From is the signature, as SendSms's SignName: an account that registered signs sends under its approved
        // ones only (else a sign the operator rejected would go out through this operation).
        guard !from.utf8.contains(0) else {
            return .rejected(ResponseCode.smsSignNameIllegal.with("From must not contain NUL characters."), echo)
        }
        if let why = try catalog.problem(from) {
            return .rejected(ResponseCode.smsSignNameIllegal.with(why), echo)
        }
        var values: [String: String] = [:]
        if let param = call.params.optional("TemplateParam") {
            guard let parsed = Self.values(param) else {
                return .rejected(ResponseCode.invalidJSONParam.with("TemplateParam must be a JSON object."), echo)
            }
            values = parsed
        }
        // A value no message could hold is refused before rendering: a template may repeat a variable hundreds of
        // times, and each copy of a request-sized value would be built first (a character is at most 3 UTF-8
        // bytes per unit of the message's length).
        if values.values.contains(where: { $0.utf8.count > 3 * call.env.maxTextLength }) {
            return .rejected(
                ResponseCode.paramLengthLimit.with(
                    "A template variable's value is longer than a message may be (\(call.env.maxTextLength) characters)."
                ),
                echo
            )
        }
        let body: String
        switch Template.render(template.text, values: values) {
        case .success(let text): body = text
        case .failure(.missingValue(let name)):
            return .rejected(
                ResponseCode.contentMissingParameters.with("The template variable ${\(name)} has no value."),
                echo
            )
        }
        // A signature that is a valid sender ID travels as the sender; any other (【Brand】) leads the text,
        // as mainland carriers expect.
        var c = common
        var text = body
        if SenderID.isValid(from) {
            c.from = from
        } else {
            c.from = ""
            text = "【\(from)】" + body
        }
        // The rendered text is what the carrier sees: its length is checked after the values are filled in.
        let sms = SMSText(text)
        if let why = sms.lengthProblem(maxUnits: call.env.maxTextLength) {
            return .rejected(ResponseCode.paramLengthLimit.with("The rendered template is too long. \(why)"), echo)
        }
        let id = call.env.ids.next(1, nowMs: call.nowMs)[0]
        let message = SendRules.message(
            id: id,
            call: call,
            to: number.digits,
            text: text,
            common: c,
            single: true,
            sms: sms
        )
        let result = ActionResult(
            fields: [
                ("ResponseCode", .string(ResponseCode.ok.code)),
                ("ResponseDescription", .string(ResponseCode.ok.description)),
                ("MessageId", .string(String(id))),
                ("To", .string(number.digits)),
                ("Segments", .string(String(sms.segments))),
                ("NumberDetail", SendRules.numberDetail(NumberDetail(number))),
            ],
            writes: WriteBatch(messages: [message], regions: [number.region])
        )
        return SendRules.limitedSingle(result, limits: limits, echo: echo)
    }

    /// A JSON object's values as strings (numbers and booleans written out); nil if not an object.
    static func values(_ json: String) -> [String: String]? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
            return nil
        }
        var values: [String: String] = [:]
        for (k, v) in object {
            switch v {
            case let s as String: values[k] = s
            case let n as NSNumber: values[k] = n.stringValue
            case is NSNull: continue
            default: return nil
            }
        }
        return values
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
