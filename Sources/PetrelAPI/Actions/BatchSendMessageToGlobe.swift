import PetrelCore
import PetrelStore

/// Sends one text per recipient to up to 1,000 recipients outside the Chinese mainland.
public struct BatchSendMessageToGlobe: ImmediateRPCAction {
    public static let name = "BatchSendMessageToGlobe"
    public static let maxRecipients = 1000

    public init() {}

    public func runNow(_ call: ActionCall) throws -> ActionResult {
        let toParam = try call.params.required("To")
        let messageParam = try call.params.required("Message")
        let from = call.params.optional("From") ?? ""
        let echo: [(String, ResponseValue)] = [("From", .string(from))]

        guard let numbers = JSONStringArray.parse(toParam), !numbers.isEmpty else {
            return .rejected(ResponseCode.invalidJSONParam.with("To must be a non-empty JSON array of strings."), echo)
        }
        guard numbers.count <= Self.maxRecipients else {
            return .rejected(
                ResponseCode.mobileCountOverLimit.with(
                    "To holds \(numbers.count) numbers; at most \(Self.maxRecipients) are allowed per request."
                ),
                echo
            )
        }
        guard let texts = JSONStringArray.parse(messageParam) else {
            return .rejected(ResponseCode.invalidJSONParam.with("Message must be a JSON array of strings."), echo)
        }
        guard texts.count == numbers.count else {
            return .rejected(
                ResponseCode.invalidParameters.with(
                    "Message holds \(texts.count) texts for \(numbers.count) numbers in To; they must match one to one."
                ),
                echo
            )
        }
        let common: SendRules.Common
        switch SendRules.common(call, allowedTypes: [.notify, .mkt]) {
        case .success(let c): common = c
        case .failure(let code): return .rejected(code, echo)
        }

        var failed: [String] = []
        var tooLong: (count: Int, first: String)?
        var accepted: [(to: String, text: String, sms: SMSText)] = []
        accepted.reserveCapacity(numbers.count)
        for (raw, text) in zip(numbers, texts) {
            guard !text.isEmpty, case .success(let number) = PhoneNumber.parse(raw), !number.isChineseMainland else {
                failed.append(raw)
                continue
            }
            let sms = SMSText(text)
            if let why = sms.lengthProblem(maxUnits: call.env.maxTextLength) {
                tooLong = (
                    count: (tooLong?.count ?? 0) + 1, first: tooLong?.first ?? "The text for \(raw) is too long. \(why)"
                )
                failed.append(raw)
                continue
            }
            accepted.append((number.digits, text, sms))
        }

        let ids = call.env.ids.next(accepted.count, nowMs: call.nowMs)
        let messages = zip(ids, accepted).map { id, a in
            SendRules.message(id: id, call: call, to: a.to, text: a.text, common: common, single: false, sms: a.sms)
        }
        // Nothing accepted: the answer names the reason when every failure was a text too long.
        let code: ResponseCode
        if !messages.isEmpty {
            code = .ok
        } else if let tooLong, tooLong.count == failed.count {
            code = ResponseCode.paramLengthLimit.with(tooLong.first)
        } else {
            code = ResponseCode.mobileNumberIllegal.with("No number could be accepted; see FailedList.")
        }
        return ActionResult(
            fields: [
                ("ResponseCode", .string(code.code)),
                ("ResponseDescription", .string(code.description)),
                ("From", .string(from)),
                ("SuccessCount", .string(String(messages.count))),
                ("MessageIdList", .string(ResponseEncoder.jsonArrayText(ids.map { String($0) }))),
                ("FailedList", .string(ResponseEncoder.jsonArrayText(failed))),
            ],
            writes: WriteBatch(messages: messages)
        )
    }
}
