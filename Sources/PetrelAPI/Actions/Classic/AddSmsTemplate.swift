import PetrelCore
import PetrelStore

/// dysmsapi 2017-05-25 `AddSmsTemplate` and its newer name `CreateSmsTemplate`: a template for the account, with
/// a code Petrel makes (`SMS_` and nine digits, as Alibaba's), approved at once unless `api.approval: manual`.
/// It is one of the account's templates, as SendMessageWithTemplate and the console see them.
public struct AddSmsTemplate: RPCAction {
    public static let name = "AddSmsTemplate"
    public static let version = APIVersion.classic

    public init() {}

    public func run(_ call: ActionCall) async throws -> ActionResult {
        try await ClassicManage.answer { [("TemplateCode", .string(try await Self.add(call).code))] }
    }

    static func add(_ call: ActionCall) async throws -> TemplateRecord {
        var template = try ClassicManage.templateFields(call, code: "", createdAtMs: call.nowMs)
        let max = call.env.signs.maxTemplatesPerAccount
        // A code already taken (one in 900 million per template the account has) is drawn again.
        for _ in 0..<5 {
            template.code = "SMS_\(Int.random(in: 100_000_000...999_999_999))"
            switch try await call.env.store.addTemplate(template, max: max) {
            case .added: return template
            case .exists: continue
            case .full:
                throw ClassicManage.refuse(
                    ClassicCode.invalidParameters,
                    "The account has \(max) templates, as many as it may (api.maxTemplatesPerAccount)."
                )
            }
        }
        throw ClassicManage.refuse(ClassicCode.invalidParameters, "No free template code was found; try again.")
    }
}

public struct CreateSmsTemplate: RPCAction {
    public static let name = "CreateSmsTemplate"
    public static let version = APIVersion.classic

    public init() {}

    public func run(_ call: ActionCall) async throws -> ActionResult {
        try await ClassicManage.answer {
            let template = try await AddSmsTemplate.add(call)
            return [("TemplateCode", .string(template.code)), ("TemplateName", .string(template.name))]
        }
    }
}
