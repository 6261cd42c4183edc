import PetrelCore
import PetrelStore

/// dysmsapi 2017-05-25 `AddSmsSign` and its newer name `CreateSmsSign`: registers a signature (SignName) for the
/// account, approved at once unless `api.approval: manual` (then the operator approves or rejects it). Files and
/// qualifications are accepted and not kept.
public struct AddSmsSign: RPCAction {
    public static let name = "AddSmsSign"
    public static let version = APIVersion.classic

    public init() {}

    public func run(_ call: ActionCall) async throws -> ActionResult {
        try await ClassicManage.answer { try await Self.add(call) }
    }

    static func add(_ call: ActionCall) async throws -> [(String, ResponseValue)] {
        let name = try ClassicManage.signName(call)
        let sign = try ClassicManage.signFields(call, name: name, createdAtMs: call.nowMs)
        let max = call.env.signs.maxSignsPerAccount
        switch try await call.env.store.addSign(sign, max: max) {
        case .added: return [("SignName", .string(name))]
        case .exists:
            throw ClassicManage.refuse(ClassicCode.invalidParameters, "The account has a sign named \(name) already.")
        case .full:
            throw ClassicManage.refuse(
                ClassicCode.invalidParameters,
                "The account has \(max) signs, as many as it may (api.maxSignsPerAccount)."
            )
        }
    }
}

public struct CreateSmsSign: RPCAction {
    public static let name = "CreateSmsSign"
    public static let version = APIVersion.classic

    public init() {}

    public func run(_ call: ActionCall) async throws -> ActionResult {
        try await ClassicManage.answer { try await AddSmsSign.add(call) }
    }
}
