import PetrelCore
import PetrelStore

/// dysmsapi 2017-05-25 `GetSmsTemplateList`: the account's templates in `Data.List`, a page at a time (PageIndex,
/// PageSize 1 to 50), narrowed by TemplateCode, TemplateName (a part of it), TemplateType and AuditStatus
/// (0 pending, 1 approved, 2 rejected, as this operation numbers them). SignName, TemplateTag and UsableStateList
/// narrow nothing: Petrel's templates are tied to no sign and carry no tags.
public struct GetSmsTemplateList: RPCAction {
    public static let name = "GetSmsTemplateList"
    public static let version = APIVersion.classic

    public init() {}

    public func run(_ call: ActionCall) async throws -> ActionResult {
        try await ClassicManage.answer {
            let (page, size, offset) = try ClassicManage.page(call)
            let code = try ClassicManage.text(call, "TemplateCode", max: ClassicManage.maxCode, required: false)
            let name = try ClassicManage.text(call, "TemplateName", max: ClassicManage.maxTemplateName, required: false)
            let type = try call.params.optional("TemplateType").map { _ in
                try ClassicManage.number(call, "TemplateType", 0...3, fallback: nil)
            }
            let audit = try call.params.optional("AuditStatus").map { _ in
                AuditState(rawValue: try ClassicManage.number(call, "AuditStatus", 0...2, fallback: nil)) ?? .pending
            }
            let (total, templates): (Int, [TemplateRecord])
            if type == nil, audit == nil, name.isEmpty, code.isEmpty {
                (total, templates) = try await call.env.store.templates(
                    account: call.account,
                    offset: offset,
                    limit: size
                )
            } else {
                // Narrowed: the account's templates (at most api.maxTemplatesPerAccount made through the API,
                // and the operator's own) filtered here.
                let all: [TemplateRecord]
                if !code.isEmpty {
                    all = try await call.env.store.template(account: call.account, code: code).map { [$0] } ?? []
                } else {
                    all = try await call.env.store.templates(account: call.account)
                }
                let kept = all.filter {
                    (type == nil || $0.type == type) && (audit == nil || $0.audit == audit)
                        && (name.isEmpty || $0.name.contains(name))
                }
                (total, templates) = (kept.count, Array(kept.dropFirst(offset).prefix(size)))
            }
            let list = templates.map { t -> ResponseValue in
                .object([
                    ("TemplateCode", .string(t.code)),
                    ("TemplateName", .string(t.name)),
                    ("TemplateContent", .string(t.text)),
                    ("TemplateType", .number(Int64(t.type))),
                    ("AuditStatus", .number(Int64(t.audit.rawValue))),
                    ("GmtCreate", .string(ClassicManage.date(t.createdAtMs, call))),
                ])
            }
            return [
                ("Success", .bool(true)),
                (
                    "Data",
                    .object([
                        ("List", .array(list)),
                        ("PageNo", .number(Int64(page))),
                        ("PageSize", .number(Int64(size))),
                        ("Total", .number(Int64(total))),
                    ])
                ),
            ]
        }
    }
}
