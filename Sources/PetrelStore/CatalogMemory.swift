import PetrelCore

/// The templates and sign uses that the send path reads (SendSms, SendBatchSms, SendMessageWithTemplate), kept in
/// memory beside the access keys and forgotten with them: every sign or template change announces itself the way a
/// key change does (`KeyCache`'s shared stamp on SQLite, `NOTIFY petrel_keys` on PostgreSQL), so a cached answer
/// is never older than the last change any process or node committed.
struct CatalogMemory {
    struct Name: Hashable {
        let account: ByteKey
        let name: ByteKey
    }

    /// Answers for at most this many names of each kind; then all are forgotten and read again.
    static let maxEntries = 10_000
    /// Names longer than this (account and name together, in bytes) are never remembered: a client may send any
    /// code, and 10,000 of them each as long as a request would hold memory no one configured.
    static let maxNameBytes = 256

    private var templates: [Name: TemplateRecord?] = [:]
    private var signs: [Name: SignUse] = [:]

    static func name(_ account: String, _ name: String) -> Name? {
        guard account.utf8.count + name.utf8.count <= maxNameBytes else { return nil }
        return Name(account: ByteKey(account), name: ByteKey(name))
    }

    func template(_ key: Name) -> TemplateRecord?? { templates[key] }
    func signUse(_ key: Name) -> SignUse? { signs[key] }

    mutating func remember(_ key: Name, template: TemplateRecord?) {
        if templates.count >= Self.maxEntries { templates.removeAll() }
        templates[key] = .some(template)
    }

    mutating func remember(_ key: Name, signUse: SignUse) {
        if signs.count >= Self.maxEntries { signs.removeAll() }
        signs[key] = signUse
    }

    mutating func removeAll() {
        templates.removeAll()
        signs.removeAll()
    }
}
