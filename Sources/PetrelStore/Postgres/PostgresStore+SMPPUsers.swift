import Foundation
import PostgresNIO

extension PostgresStore {
    static let smppUserColumns = "system_id, password, account, max_binds, tps, allow_ip, enabled, created_at"

    func smppUser(_ r: PostgresRandomAccessRow) throws -> SMPPUserRecord {
        SMPPUserRecord(
            systemID: try r.get(0),
            password: try secrets.open(Array(try r.get(1, as: Data.self))),
            account: try r.get(2),
            maxBinds: try r.get(3, as: Int?.self),
            tps: try r.get(4, as: Int?.self),
            allowIP: try r.get(5, as: String.self).split(separator: ",").map(String.init),
            enabled: try r.get(6),
            createdAtMs: try r.get(7)
        )
    }

    public func smppUser(systemID: String) async throws -> SMPPUserRecord? {
        try await first(
            "SELECT \(unescaped: Self.smppUserColumns) FROM smpp_users WHERE system_id = \(systemID)"
        ) { try self.smppUser($0) }
    }

    public func smppUsers() async throws -> [SMPPUserRecord] {
        try await rows("SELECT \(unescaped: Self.smppUserColumns) FROM smpp_users ORDER BY system_id") {
            try self.smppUser($0)
        }
    }

    public func addSMPPUser(_ u: SMPPUserRecord) async throws -> Bool {
        let sealed = Data(try secrets.seal(u.password))
        let allow = u.allowIP.joined(separator: ",")
        return try await run(
            """
            INSERT INTO smpp_users (\(unescaped: Self.smppUserColumns))
            VALUES (\(u.systemID), \(sealed), \(u.account), \(u.maxBinds), \(u.tps), \(allow), \(u.enabled),
                \(u.createdAtMs))
            ON CONFLICT (system_id) DO NOTHING RETURNING 1
            """
        ) > 0
    }

    public func setSMPPUser(systemID: String, enabled: Bool) async throws -> Bool {
        try await run("UPDATE smpp_users SET enabled = \(enabled) WHERE system_id = \(systemID) RETURNING 1") > 0
    }

    public func deleteSMPPUser(systemID: String) async throws -> Bool {
        try await run("DELETE FROM smpp_users WHERE system_id = \(systemID) RETURNING 1") > 0
    }
}
