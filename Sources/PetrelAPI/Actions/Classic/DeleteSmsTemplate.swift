import PetrelCore
import PetrelStore

/// dysmsapi 2017-05-25 `DeleteSmsTemplate`: the account's template is gone, for both API versions.
public struct DeleteSmsTemplate: RPCAction {
    public static let name = "DeleteSmsTemplate"
    public static let version = APIVersion.classic

    public init() {}

    public func run(_ call: ActionCall) async throws -> ActionResult {
        try await ClassicManage.answer {
            let code = try ClassicManage.templateCode(call)
            guard try await call.env.store.deleteTemplate(account: call.account, code: code) else {
                throw ClassicManage.refuse(
                    ClassicCode.templateIllegal,
                    "The account has no template with the code \(code)."
                )
            }
            return [("TemplateCode", .string(code))]
        }
    }
}
