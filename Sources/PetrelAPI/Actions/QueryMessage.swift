import PetrelCore
import PetrelStore

/// The status of one message of the caller's account.
public struct QueryMessage: RPCAction {
    public static let name = "QueryMessage"

    public init() {}

    public func run(_ call: ActionCall) async throws -> ActionResult {
        let idText = try call.params.required("MessageId")
        // Another account's message answers exactly as an unknown id does, and so does one sent through 2017-05-25
        // (QuerySendDetails shows those).
        guard let id = Int64(idText), let m = try await call.env.store.message(id: id, account: call.account),
            m.api == .intl
        else {
            return .rejected(
                ResponseCode.invalidParameters.with("No message has the MessageId \(idText)."),
                [("MessageId", .string(idText))]
            )
        }
        let offset = call.env.dateOffsetSeconds
        let (code, description) = m.outcomeFields
        let detail = (try? PhoneNumber.parse(m.to).get()).map(NumberDetail.init) ?? .empty
        return ActionResult(fields: [
            ("ResponseCode", .string(ResponseCode.ok.code)),
            ("ResponseDescription", .string(ResponseCode.ok.description)),
            ("MessageId", .string(idText)),
            ("To", .string(m.to)),
            ("Message", .string(m.text)),
            ("Status", .string(m.status.queryStatus)),
            ("ErrorCode", .string(code)),
            ("ErrorDescription", .string(description)),
            ("SendDate", .string(AlibabaDate.rfc2822(ms: m.sentAtMs ?? m.createdAtMs, offsetSeconds: offset))),
            ("ReceiveDate", .string(m.doneAtMs.map { AlibabaDate.rfc2822(ms: $0, offsetSeconds: offset) } ?? "")),
            ("NumberDetail", SendRules.numberDetail(detail)),
        ])
    }
}
