import PetrelCore
import PetrelStore

/// dysmsapi 2017-05-25 `QuerySmsTemplateList`: the account's templates by code, a page at a time (PageSize 1 to
/// 50), `AuditStatus` as `AUDIT_STATE_INIT`, `AUDIT_STATE_PASS` or `AUDIT_STATE_NOT_PASS`.
public struct QuerySmsTemplateList: RPCAction {
    public static let name = "QuerySmsTemplateList"
    public static let version = APIVersion.classic

    public init() {}

    public func run(_ call: ActionCall) async throws -> ActionResult {
        try await ClassicManage.answer {
            let (page, size, offset) = try ClassicManage.page(call)
            let found = try await call.env.store.templates(account: call.account, offset: offset, limit: size)
            let list = found.templates.map { t -> ResponseValue in
                .object([
                    ("TemplateCode", .string(t.code)),
                    ("TemplateName", .string(t.name)),
                    ("TemplateContent", .string(t.text)),
                    ("TemplateType", .number(Int64(t.type))),
                    ("OuterTemplateType", .number(Int64(t.type))),
                    ("AuditStatus", .string(t.audit.alibabaName)),
                    ("CreateDate", .string(ClassicManage.date(t.createdAtMs, call))),
                    ("Reason", ClassicManage.reasonObject(t.audit, t.reason, t.auditedAtMs, call)),
                ])
            }
            return [
                ("CurrentPage", .number(Int64(page))),
                ("PageSize", .number(Int64(size))),
                ("TotalCount", .number(Int64(found.total))),
                ("SmsTemplateList", .array(list)),
            ]
        }
    }
}
