import Foundation
import PetrelCore
import PetrelStore

/// dysmsapi 2017-05-25 `SendBatchSms`: one template to up to 1,000 numbers, each with its own signature and
/// values (PhoneNumberJson, SignNameJson, TemplateParamJson match by position; the SDK sends them in a form body).
public struct SendBatchSms: CachedRPCAction {
    public static let name = "SendBatchSms"
    public static let version = APIVersion.classic

    public init() {}

    public func run(_ call: ActionCall) async throws -> ActionResult {
        try await ClassicSend.send(call, try request(call))
    }

    public func runIfCached(_ call: ActionCall) throws -> ActionResult? {
        try ClassicSend.sendIfCached(call, try request(call))
    }

    func request(_ call: ActionCall) throws -> ClassicSend.Request {
        let numbersJSON = try call.params.required("PhoneNumberJson")
        let signsJSON = try call.params.required("SignNameJson")
        let code = try call.params.required("TemplateCode")
        guard let numbers = JSONStringArray.parse(numbersJSON), !numbers.isEmpty else {
            return .refused(
                ClassicCode.invalidJSONParam.with("PhoneNumberJson must be a non-empty JSON array of strings.")
            )
        }
        guard numbers.count <= ClassicSend.maxRecipients else {
            return .refused(
                ClassicCode.mobileCountOverLimit.with(
                    "PhoneNumberJson holds \(numbers.count) numbers; at most \(ClassicSend.maxRecipients) are allowed."
                )
            )
        }
        guard let signs = JSONStringArray.parse(signsJSON) else {
            return .refused(
                ClassicCode.invalidJSONParam.with("SignNameJson must be a JSON array of strings.")
            )
        }
        guard signs.count == numbers.count else {
            return .refused(
                ClassicCode.invalidParameters.with(
                    "SignNameJson holds \(signs.count) signatures for \(numbers.count) numbers; they must match one to one."
                )
            )
        }
        var values = [[String: String]](repeating: [:], count: numbers.count)
        if let paramsJSON = call.params.optional("TemplateParamJson") {
            guard let parsed = Self.objects(paramsJSON) else {
                return .refused(
                    ClassicCode.invalidJSONParam.with("TemplateParamJson must be a JSON array of objects.")
                )
            }
            guard parsed.count == numbers.count else {
                return .refused(
                    ClassicCode.invalidParameters.with(
                        "TemplateParamJson holds \(parsed.count) objects for \(numbers.count) numbers; they must match."
                    )
                )
            }
            values = parsed
        }
        var extendCodes = [String](repeating: "", count: numbers.count)
        if let extJSON = call.params.optional("SmsUpExtendCodeJson") {
            guard let parsed = JSONStringArray.parse(extJSON), parsed.count == numbers.count else {
                return .refused(
                    ClassicCode.invalidJSONParam.with(
                        "SmsUpExtendCodeJson must be a JSON array of strings, one per number of PhoneNumberJson."
                    )
                )
            }
            extendCodes = parsed
        }
        let recipients = numbers.indices.map {
            ClassicSend.Recipient(raw: numbers[$0], sign: signs[$0], values: values[$0], extendCode: extendCodes[$0])
        }
        return .send(templateCode: code, recipients, uniform: false)
    }

    /// A JSON array of objects, each one's values as strings; nil if it is not one.
    static func objects(_ json: String) -> [[String: String]]? {
        guard let array = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [Any] else { return nil }
        var out: [[String: String]] = []
        out.reserveCapacity(array.count)
        for item in array {
            guard let object = item as? [String: Any] else { return nil }
            var values: [String: String] = [:]
            for (k, v) in object {
                switch v {
                case let s as String: values[k] = s
                case let n as NSNumber: values[k] = n.stringValue
                case is NSNull: continue
                default: return nil
                }
            }
            out.append(values)
        }
        return out
    }
}
