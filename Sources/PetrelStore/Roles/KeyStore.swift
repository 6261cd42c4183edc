public import PetrelCore

/// Access keys (secrets sealed under the master key) and the fingerprint of that key.
public protocol KeyStore: Sendable {
    func accessKey(id: String) async throws -> AccessKeyRecord?
    /// The answer `accessKey(id:)` would give, when it is in memory and current (which may be "no such key");
    /// nil when only `accessKey(id:)` can tell. Called on the request path, so it must not block.
    func cachedAccessKey(id: String) -> AccessKeyRecord??
    func accessKeys() async throws -> [AccessKeyRecord]
    /// Inserts or replaces a key.
    func putAccessKey(_ key: AccessKeyRecord) async throws
    func setAccessKey(id: String, enabled: Bool) async throws -> Bool
    func deleteAccessKey(id: String) async throws -> Bool
    /// The fingerprint of the master key the store's secrets are sealed under, if one was recorded.
    func masterKeyFingerprint() async throws -> String?
    /// Records `fingerprint` unless one is recorded already; returns the one recorded.
    func recordMasterKeyFingerprint(_ fingerprint: String) async throws -> String
}

extension KeyStore {
    public func cachedAccessKey(id: String) -> AccessKeyRecord?? { nil }
}

extension TemplateStore {
    public func cachedTemplate(account: String, code: String) -> TemplateRecord?? { nil }
}

/// Message templates, per account.
public protocol TemplateStore: Sendable {
    func template(account: String, code: String) async throws -> TemplateRecord?
    /// The answer `template(account:code:)` would give, when it is in memory and current (which may be "no such
    /// template"); nil when only `template(account:code:)` can tell. On the send path, so it must not block.
    func cachedTemplate(account: String, code: String) -> TemplateRecord??
    func templates(account: String?) async throws -> [TemplateRecord]
    func putTemplate(_ template: TemplateRecord) async throws
    func deleteTemplate(account: String, code: String) async throws -> Bool
}
