import PetrelCore
import PetrelStore

/// Records whether a message led to a conversion (e.g. the OTP was entered).
public struct SmsConversion: RPCAction {
    public static let name = "SmsConversion"

    public init() {}

    public func run(_ call: ActionCall) async throws -> ActionResult {
        let deliveredText = try call.params.required("Delivered")
        guard let delivered = Bool(deliveredText.lowercased()) else {
            return .rejected(ResponseCode.invalidParameters.with("Delivered must be true or false."))
        }
        var conversionTime: Int64?
        if let t = call.params.optional("ConversionTime") {
            guard let ms = Int64(t), ms >= 0 else {
                return .rejected(
                    ResponseCode.invalidParameters.with("ConversionTime must be a time in epoch milliseconds.")
                )
            }
            conversionTime = ms
        }
        var messageId: Int64?
        var to = ""
        var pumping: PumpingBucket?
        if let idText = call.params.optional("MessageId") {
            guard let id = Int64(idText), let m = try await call.env.store.message(id: id, account: call.account) else {
                return .rejected(ResponseCode.invalidParameters.with("No message has the MessageId \(idText)."))
            }
            messageId = id
            to = m.to
            // limits.pumpingGuard counts the message converted in its send's bucket (a report naming only To
            // cannot be tied to one send, and does not count).
            if delivered, let g = call.env.limits(call.account)?.pumpingGuard, g.type == m.type {
                let country = (try? PhoneNumber.parse(m.to).get())?.region ?? ""
                pumping = PumpingBucket(country: country, type: m.type, start: g.bucket(m.createdAtMs))
            }
        }
        if let number = call.params.optional("To") {
            guard case .success(let n) = PhoneNumber.parse(number) else {
                return .rejected(
                    ResponseCode.mobileNumberIllegal.with("To is not a valid international number: \(number).")
                )
            }
            to = n.digits
        }
        guard messageId != nil || !to.isEmpty else {
            throw APIError.missingParameter("MessageId")
        }
        let record = ConversionRecord(
            account: call.account,
            messageId: messageId,
            to: to,
            delivered: delivered,
            conversionTimeMs: conversionTime,
            receivedAtMs: call.nowMs,
            pumping: pumping
        )
        return ActionResult(
            fields: [
                ("ResponseCode", .string(ResponseCode.ok.code)),
                ("ResponseDescription", .string("The conversion was recorded")),
            ],
            writes: WriteBatch(conversions: [record])
        )
    }
}
