import PetrelCore
import PetrelStore

/// Records an account's overall conversion rate for a reporting time.
public struct ConversionData: ImmediateRPCAction {
    public static let name = "ConversionData"

    public init() {}

    public func runNow(_ call: ActionCall) throws -> ActionResult {
        let rateText = try call.params.required("ConversionRate")
        guard let rate = Double(rateText), rate.isFinite, rate >= 0, rate <= 1 else {
            return .rejected(ResponseCode.invalidParameters.with("ConversionRate must be a number from 0 to 1."))
        }
        var reportTime: Int64?
        if let t = call.params.optional("ReportTime") {
            guard let ms = Int64(t), ms >= 0 else {
                return .rejected(
                    ResponseCode.invalidParameters.with("ReportTime must be a time in epoch milliseconds.")
                )
            }
            reportTime = ms
        }
        let record = ConversionDataRecord(
            account: call.account,
            rate: rate,
            reportTimeMs: reportTime,
            receivedAtMs: call.nowMs
        )
        return ActionResult(
            fields: [
                ("ResponseCode", .string(ResponseCode.ok.code)),
                ("ResponseDescription", .string("The conversion data was recorded")),
            ],
            writes: WriteBatch(conversionData: [record])
        )
    }
}
