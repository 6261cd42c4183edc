import PetrelCore
import PetrelStore

/// dysmsapi 2017-05-25 `QuerySmsSign`: one sign's audit state as a number (0 pending, 1 approved, 2 rejected).
public struct QuerySmsSign: RPCAction {
    public static let name = "QuerySmsSign"
    public static let version = APIVersion.classic

    public init() {}

    public func run(_ call: ActionCall) async throws -> ActionResult {
        try await ClassicManage.answer {
            let sign = try await ClassicManage.sign(call, try ClassicManage.signName(call))
            return [
                ("SignName", .string(sign.name)),
                ("SignStatus", .number(Int64(sign.audit.rawValue))),
                ("CreateDate", .string(ClassicManage.date(sign.createdAtMs, call))),
                ("Reason", .string(ClassicManage.reason(sign.audit, sign.reason))),
            ]
        }
    }
}

/// dysmsapi 2017-05-25 `GetSmsSign`: one sign in detail, its audit in `AuditInfo`.
public struct GetSmsSign: RPCAction {
    public static let name = "GetSmsSign"
    public static let version = APIVersion.classic

    public init() {}

    public func run(_ call: ActionCall) async throws -> ActionResult {
        try await ClassicManage.answer {
            let sign = try await ClassicManage.sign(call, try ClassicManage.signName(call))
            return [
                ("SignName", .string(sign.name)),
                ("SignStatus", .number(Int64(sign.audit.rawValue))),
                ("CreateDate", .string(ClassicManage.date(sign.createdAtMs, call))),
                ("Remark", .string(sign.remark)),
                ("SignUsage", .string(QuerySmsSignList.usage(sign.type))),
                // 2: made by the user (3 would be given by the system, 4 a test sign).
                ("SignTag", .string("2")),
                ("ThirdParty", .bool(false)),
                ("AuditInfo", ClassicManage.auditInfo(sign.audit, sign.reason, sign.auditedAtMs, call)),
            ]
        }
    }
}
