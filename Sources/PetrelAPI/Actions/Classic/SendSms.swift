import Foundation
import PetrelCore
import PetrelStore

/// dysmsapi 2017-05-25 `SendSms`: one template to up to 1,000 comma-separated numbers, a number without a country
/// code being a mainland China one.
public struct SendSms: CachedRPCAction {
    public static let name = "SendSms"
    public static let version = APIVersion.classic

    public init() {}

    public func run(_ call: ActionCall) async throws -> ActionResult {
        try await ClassicSend.send(call, try request(call))
    }

    public func runIfCached(_ call: ActionCall) throws -> ActionResult? {
        try ClassicSend.sendIfCached(call, try request(call))
    }

    func request(_ call: ActionCall) throws -> ClassicSend.Request {
        let numbers = try call.params.required("PhoneNumbers")
        let sign = try call.params.required("SignName")
        let code = try call.params.required("TemplateCode")
        // Counted before splitting: a list past the limit is refused without building it.
        let count = numbers.utf8.count(where: { $0 == UInt8(ascii: ",") }) + 1
        guard count <= ClassicSend.maxRecipients else {
            return .refused(
                ClassicCode.mobileCountOverLimit.with(
                    "PhoneNumbers holds \(count) numbers; at most \(ClassicSend.maxRecipients) are allowed per request."
                )
            )
        }
        var values: [String: String] = [:]
        if let param = call.params.optional("TemplateParam") {
            guard let parsed = SendMessageWithTemplate.values(param) else {
                return .refused(ClassicCode.invalidJSONParam.with("TemplateParam must be a JSON object."))
            }
            values = parsed
        }
        let ext = call.params.optional("SmsUpExtendCode") ?? ""
        let recipients = numbers.split(separator: ",", omittingEmptySubsequences: false).map {
            ClassicSend.Recipient(
                raw: Self.trimmed($0),
                sign: sign,
                values: values,
                extendCode: ext
            )
        }
        return .send(templateCode: code, recipients, uniform: true)
    }

    /// A number without the spaces around it (Foundation's trimming only when there are any: it is the costlier).
    static func trimmed(_ s: Substring) -> String {
        if let first = s.utf8.first, let last = s.utf8.last, first > 0x20, first < 0x7F, last > 0x20, last < 0x7F {
            return String(s)
        }
        return s.trimmingCharacters(in: .whitespaces)
    }
}
