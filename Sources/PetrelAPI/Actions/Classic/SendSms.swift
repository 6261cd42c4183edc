import Foundation
import PetrelCore
import PetrelStore

/// dysmsapi 2017-05-25 `SendSms`: one template to up to 1,000 comma-separated numbers, a number without a country
/// code being a mainland China one.
public struct SendSms: RPCAction {
    public static let name = "SendSms"
    public static let version = APIVersion.classic

    public init() {}

    public func run(_ call: ActionCall) async throws -> ActionResult {
        let numbers = try call.params.required("PhoneNumbers")
        let sign = try call.params.required("SignName")
        let code = try call.params.required("TemplateCode")
        // Counted before splitting: a list past the limit is refused without building it.
        let count = numbers.utf8.count(where: { $0 == UInt8(ascii: ",") }) + 1
        guard count <= ClassicSend.maxRecipients else {
            return ClassicSend.rejected(
                ClassicCode.mobileCountOverLimit.with(
                    "PhoneNumbers holds \(count) numbers; at most \(ClassicSend.maxRecipients) are allowed per request."
                )
            )
        }
        var values: [String: String] = [:]
        if let param = call.params.optional("TemplateParam") {
            guard let parsed = SendMessageWithTemplate.values(param) else {
                return ClassicSend.rejected(ClassicCode.invalidJSONParam.with("TemplateParam must be a JSON object."))
            }
            values = parsed
        }
        let ext = call.params.optional("SmsUpExtendCode") ?? ""
        let recipients = numbers.split(separator: ",", omittingEmptySubsequences: false).map {
            ClassicSend.Recipient(
                raw: $0.trimmingCharacters(in: .whitespaces),
                sign: sign,
                values: values,
                extendCode: ext
            )
        }
        return try await ClassicSend.send(call, templateCode: code, recipients)
    }
}
