import PetrelCore
import PetrelStore

/// dysmsapi 2017-05-25 `QuerySmsSignList`: the account's signs by name, a page at a time (PageSize 1 to 50), with
/// `AuditStatus` as `AUDIT_STATE_INIT`, `AUDIT_STATE_PASS` or `AUDIT_STATE_NOT_PASS`.
public struct QuerySmsSignList: RPCAction {
    public static let name = "QuerySmsSignList"
    public static let version = APIVersion.classic

    public init() {}

    public func run(_ call: ActionCall) async throws -> ActionResult {
        try await ClassicManage.answer {
            let (page, size, offset) = try ClassicManage.page(call)
            let found = try await call.env.store.signs(account: call.account, offset: offset, limit: size)
            let list = found.signs.map { s -> ResponseValue in
                .object([
                    ("SignName", .string(s.name)),
                    ("AuditStatus", .string(s.audit.alibabaName)),
                    ("CreateDate", .string(ClassicManage.date(s.createdAtMs, call))),
                    ("BusinessType", .string(Self.usage(s.type))),
                    ("Reason", ClassicManage.reasonObject(s.audit, s.reason, s.auditedAtMs, call)),
                ])
            }
            return [
                ("CurrentPage", .number(Int64(page))),
                ("PageSize", .number(Int64(size))),
                ("TotalCount", .number(Int64(found.total))),
                ("SmsSignList", .array(list)),
            ]
        }
    }

    /// SignType as the sign lists name it.
    static func usage(_ type: Int) -> String {
        type == 0 ? "Verification code" : "General-purpose"
    }
}
