/// Signatures and templates as dysmsapi 2017-05-25 manages them (`AddSmsSign`, `AddSmsTemplate` …), per account,
/// with the operator's audit (`petrel signs|templates approve|reject`). Templates are `TemplateStore`'s rows, shared
/// with SendMessageWithTemplate and the console.
public protocol SignStore: Sendable {
    func sign(account: String, name: String) async throws -> SignRecord?
    /// What a send may make of `name`, in one read (it is on SendSms's path): the sign's audit state, or whether
    /// the account registered any sign at all (one that registered none sends under any signature).
    func signUse(account: String, name: String) async throws -> SignUse
    /// The answer `signUse(account:name:)` would give, when it is in memory and current; nil when only
    /// `signUse(account:name:)` can tell. On the send path, so it must not block.
    func cachedSignUse(account: String, name: String) -> SignUse?
    /// One page of the account's signs by name, and how many it has.
    func signs(account: String, offset: Int, limit: Int) async throws -> (total: Int, signs: [SignRecord])
    /// Adds `sign` unless the account has one of that name or `max` signs already.
    func addSign(_ sign: SignRecord, max: Int) async throws -> AddOutcome
    /// Replaces the sign's source, type, remark and audit (state, reason, time); false when there is none.
    func updateSign(_ sign: SignRecord) async throws -> Bool
    func deleteSign(account: String, name: String) async throws -> Bool
    /// The operator's decision; false when there is no such sign.
    func reviewSign(account: String, name: String, audit: AuditState, reason: String, atMs: Int64) async throws -> Bool

    /// What waits for the operator (`api.approval: manual`), every account's, oldest first: at most `limit` of each.
    func awaitingReview(limit: Int) async throws -> (signs: [SignRecord], templates: [TemplateRecord])

    /// One page of the account's templates by code, and how many it has.
    func templates(account: String, offset: Int, limit: Int) async throws -> (total: Int, templates: [TemplateRecord])
    /// Adds `template` unless the account has one with its code or `max` templates already.
    func addTemplate(_ template: TemplateRecord, max: Int) async throws -> AddOutcome
    /// Replaces the template's text, name, type, remark and audit; false when there is none.
    func updateTemplate(_ template: TemplateRecord) async throws -> Bool
    /// The operator's decision; false when there is no such template.
    func reviewTemplate(
        account: String,
        code: String,
        audit: AuditState,
        reason: String,
        atMs: Int64
    ) async throws -> Bool
}

extension SignStore {
    public func cachedSignUse(account: String, name: String) -> SignUse? { nil }
}

public enum SignUse: Sendable, Equatable {
    /// The account registered no sign.
    case anySign
    /// The account registered signs, not this one.
    case unknown
    case registered(AuditState)

    /// From a read of the sign's audit (nil: none of that name) and whether the account has any sign.
    init(audit: Int?, any: Bool) {
        if let audit {
            self = .registered(AuditState(rawValue: audit) ?? .pending)
        } else {
            self = any ? .unknown : .anySign
        }
    }
}

public enum AddOutcome: Sendable, Equatable {
    case added
    /// The account has one with that name or code.
    case exists
    /// The account has as many as it may.
    case full
}
