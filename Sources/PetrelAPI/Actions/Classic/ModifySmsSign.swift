import PetrelCore
import PetrelStore

/// dysmsapi 2017-05-25 `ModifySmsSign` and its newer name `UpdateSmsSign`: changes a sign's source, type and
/// remark and submits it again, so under `api.approval: manual` it waits for the operator once more (whatever its
/// state was); otherwise it is approved at once.
public struct ModifySmsSign: RPCAction {
    public static let name = "ModifySmsSign"
    public static let version = APIVersion.classic

    public init() {}

    public func run(_ call: ActionCall) async throws -> ActionResult {
        try await ClassicManage.answer { try await Self.modify(call) }
    }

    static func modify(_ call: ActionCall) async throws -> [(String, ResponseValue)] {
        let name = try ClassicManage.signName(call)
        let old = try await ClassicManage.sign(call, name)
        let sign = try ClassicManage.signFields(call, name: name, createdAtMs: old.createdAtMs)
        guard try await call.env.store.updateSign(sign) else {
            throw ClassicManage.refuse(ClassicCode.signatureIllegal, "The account has no sign named \(name).")
        }
        return [("SignName", .string(name))]
    }
}

public struct UpdateSmsSign: RPCAction {
    public static let name = "UpdateSmsSign"
    public static let version = APIVersion.classic

    public init() {}

    public func run(_ call: ActionCall) async throws -> ActionResult {
        try await ClassicManage.answer { try await ModifySmsSign.modify(call) }
    }
}
