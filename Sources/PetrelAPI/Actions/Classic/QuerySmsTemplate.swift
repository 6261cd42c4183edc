import PetrelCore
import PetrelStore

/// dysmsapi 2017-05-25 `QuerySmsTemplate`: one template, its audit state and type as numbers.
public struct QuerySmsTemplate: RPCAction {
    public static let name = "QuerySmsTemplate"
    public static let version = APIVersion.classic

    public init() {}

    public func run(_ call: ActionCall) async throws -> ActionResult {
        try await ClassicManage.answer {
            let t = try await ClassicManage.template(call, try ClassicManage.templateCode(call))
            return [
                ("TemplateCode", .string(t.code)),
                ("TemplateName", .string(t.name)),
                ("TemplateContent", .string(t.text)),
                ("TemplateStatus", .number(Int64(t.audit.rawValue))),
                ("TemplateType", .number(Int64(t.type))),
                ("CreateDate", .string(ClassicManage.date(t.createdAtMs, call))),
                ("Reason", .string(ClassicManage.reason(t.audit, t.reason))),
            ]
        }
    }
}

/// dysmsapi 2017-05-25 `GetSmsTemplate`: one template in detail; this operation types TemplateStatus and
/// TemplateType as strings, its audit in `AuditInfo`.
public struct GetSmsTemplate: RPCAction {
    public static let name = "GetSmsTemplate"
    public static let version = APIVersion.classic

    public init() {}

    public func run(_ call: ActionCall) async throws -> ActionResult {
        try await ClassicManage.answer {
            let t = try await ClassicManage.template(call, try ClassicManage.templateCode(call))
            return [
                ("TemplateCode", .string(t.code)),
                ("TemplateName", .string(t.name)),
                ("TemplateContent", .string(t.text)),
                ("TemplateStatus", .string(String(t.audit.rawValue))),
                ("TemplateType", .string(String(t.type))),
                ("CreateDate", .string(ClassicManage.date(t.createdAtMs, call))),
                ("Remark", .string(t.remark)),
                // 2: made by the user (3 would be given by the system, 4 a test template).
                ("TemplateTag", .number(2)),
                ("AuditInfo", ClassicManage.auditInfo(t.audit, t.reason, t.auditedAtMs, call)),
            ]
        }
    }
}
