/// The credentials ESMEs bind to Petrel's SMPP server with (`petrel smpp-users`), one row per system_id, each acting
/// for one account. Passwords are sealed under the master key like access-key secrets.
public protocol SMPPUserStore: Sendable {
    func smppUser(systemID: String) async throws -> SMPPUserRecord?
    func smppUsers() async throws -> [SMPPUserRecord]
    /// Adds `user`; false (and nothing changes) when its system_id is taken.
    func addSMPPUser(_ user: SMPPUserRecord) async throws -> Bool
    func setSMPPUser(systemID: String, enabled: Bool) async throws -> Bool
    func deleteSMPPUser(systemID: String) async throws -> Bool
}

public struct SMPPUserRecord: Sendable, Equatable {
    /// At most 15 characters (SMPP 3.4's system_id).
    public var systemID: String
    /// At most 8 bytes (SMPP 3.4's password); sealed at rest.
    public var password: String
    public var account: String
    /// Binds of this system_id at once; nil: only the server's `smppServer.maxBinds`.
    public var maxBinds: Int?
    /// submit_sm per second over all its binds; nil: unlimited (the account's limits still apply).
    public var tps: Int?
    /// CIDR blocks binds may come from; empty: any address.
    public var allowIP: [String]
    public var enabled: Bool
    public var createdAtMs: Int64

    public init(
        systemID: String,
        password: String,
        account: String,
        maxBinds: Int? = nil,
        tps: Int? = nil,
        allowIP: [String] = [],
        enabled: Bool = true,
        createdAtMs: Int64
    ) {
        self.systemID = systemID
        self.password = password
        self.account = account
        self.maxBinds = maxBinds
        self.tps = tps
        self.allowIP = allowIP
        self.enabled = enabled
        self.createdAtMs = createdAtMs
    }
}
