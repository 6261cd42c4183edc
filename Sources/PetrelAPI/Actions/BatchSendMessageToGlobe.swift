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

        let limits = call.env.limits(call.account)
        let screen = RecipientScreen(limits, type: common.type)
        var answer = Answer(from: from)
        var accepted: [(to: String, text: String, sms: SMSText, region: String)] = []
        accepted.reserveCapacity(numbers.count)
        for (i, (raw, text)) in zip(numbers, texts).enumerated() {
            guard !text.isEmpty, case .success(let number) = PhoneNumber.parse(raw), !number.isChineseMainland else {
                answer.failed.append((i, raw))
                continue
            }
            if let refusal = screen?.refusal(account: call.account, number, halts: call.env.halts)
                ?? call.optOutRefusal(number, type: common.type)
            {
                answer.refuse(at: i, raw, refusal)
                continue
            }
            let sms = SMSText(text)
            if let why = sms.lengthProblem(maxUnits: call.env.maxTextLength) {
                answer.tooLong = (
                    count: (answer.tooLong?.count ?? 0) + 1,
                    first: answer.tooLong?.first ?? "The text for \(raw) is too long. \(why)"
                )
                answer.failed.append((i, raw))
                continue
            }
            answer.accepted.append((i, raw))
            accepted.append((number.digits, text, sms, number.region))
        }

        let ids = call.env.ids.next(accepted.count, nowMs: call.nowMs)
        answer.ids = ids
        let messages = zip(ids, accepted).map { id, a in
            SendRules.message(id: id, call: call, to: a.to, text: a.text, common: common, single: false, sms: a.sms)
        }
        let plain = [ResponseCode?](repeating: nil, count: messages.count)
        var writes = WriteBatch(messages: messages)
        guard let limits, messages.contains(where: { limits.checks(to: $0.to, type: $0.type) })
        else {
            return ActionResult(fields: answer.fields(plain), writes: writes)
        }
        writes.regions = accepted.map(\.region)
        // The answer's fields are made once the store has decided (`Limited.answer`), not here as well.
        return ActionResult(
            fields: [],
            writes: writes,
            limited: ActionResult.Limited(limits: limits) { [answer] in answer.fields($0) }
        )
    }

    /// The answer, from what the action decided and what the store refused (`limits.perNumber`).
    struct Answer: Sendable {
        var from: String
        /// By the recipient's position in To, so FailedList keeps the request's order.
        var failed: [(index: Int, raw: String)] = []
        var accepted: [(index: Int, raw: String)] = []
        var ids: [Int64] = []
        var tooLong: (count: Int, first: String)?
        var firstRefusal: (index: Int, code: ResponseCode)?

        mutating func refuse(at index: Int, _ raw: String, _ code: ResponseCode) {
            failed.append((index, raw))
            if firstRefusal == nil { firstRefusal = (index, code) }
        }

        /// `refusals`: one per accepted recipient, nil where the store kept the message.
        func fields(_ refusals: [ResponseCode?]) -> [(String, ResponseValue)] {
            var all = self
            var kept: [Int64] = []
            for (i, refusal) in refusals.enumerated() {
                if let refusal {
                    let (index, raw) = accepted[i]
                    all.failed.append((index, raw))
                    if all.firstRefusal.map({ index < $0.index }) ?? true { all.firstRefusal = (index, refusal) }
                } else {
                    kept.append(ids[i])
                }
            }
            let failedList = all.failed.sorted { $0.index < $1.index }.map(\.raw)
            // Nothing accepted: the answer names a limit that refused one, or the reason when every failure was a
            // text too long.
            let code: ResponseCode
            if !kept.isEmpty {
                code = .ok
            } else if let refusal = all.firstRefusal {
                code = refusal.code
            } else if let tooLong, tooLong.count == failedList.count {
                code = ResponseCode.paramLengthLimit.with(tooLong.first)
            } else {
                code = ResponseCode.mobileNumberIllegal.with("No number could be accepted; see FailedList.")
            }
            return [
                ("ResponseCode", .string(code.code)),
                ("ResponseDescription", .string(code.description)),
                ("From", .string(from)),
                ("SuccessCount", .string(String(kept.count))),
                ("MessageIdList", .string(ResponseEncoder.jsonArrayText(kept.map { String($0) }))),
                ("FailedList", .string(ResponseEncoder.jsonArrayText(failedList))),
            ]
        }
    }
}
