import PetrelCore
import PetrelStore

/// dysmsapi 2017-05-25 `SmsConversionIntl`: 2018-05-01's `SmsConversion` (the same records, the same
/// `limits.pumpingGuard` counting) answered in 2017's `{Code, Message}`. MessageId is a message's id, or a send's
/// BizId (`ID^0`), which names the send's first message (the only one of a send to one number).
public struct SmsConversionIntl: RPCAction {
    public static let name = "SmsConversionIntl"
    public static let version = APIVersion.classic

    public init() {}

    public func run(_ call: ActionCall) async throws -> ActionResult {
        let given = try call.params.required("MessageId")
        let id = QuerySendDetails.bizId(given).map(String.init) ?? given
        var intl = call
        // This operation has no To: the message alone says whose conversion it was.
        intl.params = Parameters(call.params.pairs.filter { $0.0 != "MessageId" && $0.0 != "To" } + [("MessageId", id)])
        return Self.classic(try await SmsConversion().run(intl))
    }

    /// A 2018-05-01 answer (`ResponseCode`, `ResponseDescription`) in 2017-05-25's words, its writes kept.
    static func classic(_ result: ActionResult) -> ActionResult {
        var code = ClassicCode.ok
        if case .string(let c)? = result.fields.first(where: { $0.0 == "ResponseCode" })?.1, c != ClassicCode.ok.code {
            var description = ""
            if case .string(let d)? = result.fields.first(where: { $0.0 == "ResponseDescription" })?.1 {
                description = d
            }
            code = ClassicCode.from(ResponseCode(c, description))
        }
        var answered = result
        answered.fields = [("Code", .string(code.code)), ("Message", .string(code.description))]
        return answered
    }
}

/// dysmsapi 2017-05-25 `ConversionDataIntl`: 2018-05-01's `ConversionData` (an account's conversion rate for a
/// reporting time, the same records) answered in `{Code, Message}`.
public struct ConversionDataIntl: ImmediateRPCAction {
    public static let name = "ConversionDataIntl"
    public static let version = APIVersion.classic

    public init() {}

    public func runNow(_ call: ActionCall) throws -> ActionResult {
        SmsConversionIntl.classic(try ConversionData().runNow(call))
    }
}
