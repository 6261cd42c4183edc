import PetrelCore
import PetrelStore

/// dysmsapi 2017-05-25 `DeleteSmsSign`: the account's sign is gone; its messages already accepted still go.
public struct DeleteSmsSign: RPCAction {
    public static let name = "DeleteSmsSign"
    public static let version = APIVersion.classic

    public init() {}

    public func run(_ call: ActionCall) async throws -> ActionResult {
        try await ClassicManage.answer {
            let name = try ClassicManage.signName(call)
            guard try await call.env.store.deleteSign(account: call.account, name: name) else {
                throw ClassicManage.refuse(ClassicCode.signatureIllegal, "The account has no sign named \(name).")
            }
            return [("SignName", .string(name))]
        }
    }
}
