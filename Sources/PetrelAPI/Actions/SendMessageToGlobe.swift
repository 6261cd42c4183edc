import PetrelCore
import PetrelStore

/// Sends one message to one recipient outside the Chinese mainland; the fast lane for OTPs.
public struct SendMessageToGlobe: ImmediateRPCAction {
    public static let name = "SendMessageToGlobe"

    public init() {}

    public func runNow(_ call: ActionCall) throws -> ActionResult {
        let to = try call.params.required("To")
        let text = try call.params.required("Message")
        let from = call.params.optional("From") ?? ""
        let echo: [(String, ResponseValue)] = [("To", .string(to)), ("From", .string(from))]

        let common: SendRules.Common
        switch SendRules.common(call, allowedTypes: [.otp, .notify, .mkt]) {
        case .success(let c): common = c
        case .failure(let code): return .rejected(code, echo)
        }
        let sms = SMSText(text)
        if let why = sms.lengthProblem(maxUnits: call.env.maxTextLength) {
            return .rejected(ResponseCode.paramLengthLimit.with("Message is too long. \(why)"), echo)
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
        guard !number.isChineseMainland else {
            return .rejected(
                ResponseCode.mobileNumberIllegal.with(
                    "Numbers of the Chinese mainland (+86) are not supported by this operation; use SendMessageWithTemplate."
                ),
                echo
            )
        }
        let limits = call.env.limits(call.account)
        if let refusal = limits?.countryRefusal(number) { return .rejected(refusal, echo) }
        if let refusal = limits?.haltRefusal(account: call.account, number, type: common.type, halts: call.env.halts) {
            return .rejected(refusal, echo)
        }
        if let refusal = call.optOutRefusal(number, type: common.type) { return .rejected(refusal, echo) }
        let id = call.env.ids.next(1, nowMs: call.nowMs)[0]
        let digits = number.digits
        let message = SendRules.message(
            id: id,
            call: call,
            to: digits,
            text: text,
            common: common,
            single: true,
            sms: sms
        )
        let result = ActionResult(
            fields: [
                ("ResponseCode", .string(ResponseCode.ok.code)),
                ("ResponseDescription", .string(ResponseCode.ok.description)),
                ("MessageId", .string(String(id))),
                ("To", .string(digits)),
                ("From", .string(from)),
                ("Segments", .string(String(sms.segments))),
                ("NumberDetail", SendRules.numberDetail(NumberDetail(number))),
            ],
            writes: WriteBatch(messages: [message], regions: [number.region])
        )
        return SendRules.limitedSingle(result, limits: limits, echo: echo)
    }
}
