import PetrelCore
import PetrelStore

/// dysmsapi 2017-05-25 `ModifySmsTemplate` and its newer name `UpdateSmsTemplate`: a template's new name, text,
/// type and remark, submitted again (under `api.approval: manual` it waits for the operator once more, and
/// SendSms refuses it meanwhile). A console template may be modified as well: they are the same templates.
public struct ModifySmsTemplate: RPCAction {
    public static let name = "ModifySmsTemplate"
    public static let version = APIVersion.classic

    public init() {}

    public func run(_ call: ActionCall) async throws -> ActionResult {
        try await ClassicManage.answer { [("TemplateCode", .string(try await Self.modify(call).code))] }
    }

    static func modify(_ call: ActionCall) async throws -> TemplateRecord {
        let code = try ClassicManage.templateCode(call)
        let old = try await ClassicManage.template(call, code)
        let template = try ClassicManage.templateFields(call, code: code, createdAtMs: old.createdAtMs)
        guard try await call.env.store.updateTemplate(template) else {
            throw ClassicManage.refuse(
                ClassicCode.templateIllegal,
                "The account has no template with the code \(code)."
            )
        }
        return template
    }
}

public struct UpdateSmsTemplate: RPCAction {
    public static let name = "UpdateSmsTemplate"
    public static let version = APIVersion.classic

    public init() {}

    public func run(_ call: ActionCall) async throws -> ActionResult {
        try await ClassicManage.answer {
            let template = try await ModifySmsTemplate.modify(call)
            return [("TemplateCode", .string(template.code)), ("TemplateName", .string(template.name))]
        }
    }
}
