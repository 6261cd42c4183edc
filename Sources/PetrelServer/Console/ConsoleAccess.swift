import Hummingbird
import PetrelAPI

/// The policy action each console page and form needs (README, "Access keys and policies"). A key without a
/// policy has them all.
enum ConsoleAction {
    /// Messages, a message's page, the sandbox inbox, GET/DELETE /sandbox/messages: what QueryMessage needs.
    static let query = "dysms:QueryMessage"
    /// The sandbox inbox's send form.
    static let send = "dysms:SendMessageToGlobe"
    /// Campaigns, in the console and from `petrel campaign send`.
    static let campaigns = "dysms:BatchSendMessageToGlobe"
    static let keys = "petrel:ManageKeys"
    static let templates = "petrel:ManageTemplates"
    static let receipts = "petrel:ManageReceipts"
    static let channels = "petrel:ViewChannels"
    /// The Limits page: the account's `limits:`, its caps' counters and halts.
    static let limits = "petrel:ManageLimits"
    /// Every carrier's host, port and system id, and the whole queue (all accounts).
    static let operate = "petrel:Operate"
    /// The Opt-out page: the account's suppression list.
    static let optOut = "petrel:ManageOptOut"

    /// What two keys are compared on before one disables, enables or deletes the other. The last one no policy
    /// names: a target key allowed it has a wildcard broader than the acting key's.
    static let all = [
        "dysms:SendMessageToGlobe", "dysms:BatchSendMessageToGlobe", "dysms:SendMessageWithTemplate",
        "dysms:QueryMessage", "dysms:SmsConversion", "dysms:ConversionData", keys, templates, receipts, channels,
        limits, operate, optOut, "petrel:ZzUnlistedAction",
    ]
}

extension ConsoleSessions.Session {
    func may(_ action: String) -> Bool { Policy.allows(policy, action: action, account: account) }

    /// Whether this key's rights include all of `other`'s.
    func covers(policy other: String?) -> Bool {
        Policy.covers(policy, other, actions: ConsoleAction.all, account: account)
    }
}

extension Console {
    static func forbidden(_ request: Request, _ s: ConsoleSessions.Session, _ action: String) -> Response {
        let sentence = "Access key \(s.keyId) may not use this page: its policy does not allow \(action)."
        let path = request.uri.path
        if path.hasPrefix("/console/api/") { return jsonError("Forbidden.RAM", sentence, status: .forbidden) }
        if path.hasPrefix("/console/fragment/") || request.method == .post {
            return text(sentence + "\n", status: .forbidden)
        }
        let page = HTML.page(title: "Not allowed", active: "", session: s, body: "<p class=\"error\">\(sentence)</p>")
        return html(page, status: .forbidden)
    }
}
