import Foundation
import GRDB

extension SQLiteStore {
    public func smppUser(systemID: String) async throws -> SMPPUserRecord? {
        let row = try readNow { db in
            try Row.fetchOne(db, sql: "SELECT * FROM smpp_users WHERE system_id = ?", arguments: [systemID])
        }
        return try row.map(smppUser)
    }

    public func smppUsers() async throws -> [SMPPUserRecord] {
        let rows = try readNow { db in try Row.fetchAll(db, sql: "SELECT * FROM smpp_users ORDER BY system_id") }
        return try rows.map(smppUser)
    }

    func smppUser(_ row: Row) throws -> SMPPUserRecord {
        let allow: String = row["allow_ip"]
        return SMPPUserRecord(
            systemID: row["system_id"],
            password: try secrets.open(Array(row["password"] as Data)),
            account: row["account"],
            maxBinds: row["max_binds"],
            tps: row["tps"],
            allowIP: allow.split(separator: ",").map(String.init),
            enabled: row["enabled"],
            createdAtMs: row["created_at"]
        )
    }

    public func addSMPPUser(_ u: SMPPUserRecord) async throws -> Bool {
        let sealed = Data(try secrets.seal(u.password))
        return try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO smpp_users (system_id, password, account, max_binds, tps, allow_ip, enabled, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (system_id) DO NOTHING
                    """,
                arguments: [
                    u.systemID, sealed, u.account, u.maxBinds, u.tps, u.allowIP.joined(separator: ","), u.enabled,
                    u.createdAtMs,
                ]
            )
            return db.changesCount > 0
        }
    }

    public func setSMPPUser(systemID: String, enabled: Bool) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE smpp_users SET enabled = ? WHERE system_id = ?",
                arguments: [enabled, systemID]
            )
            return db.changesCount > 0
        }
    }

    public func deleteSMPPUser(systemID: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM smpp_users WHERE system_id = ?", arguments: [systemID])
            return db.changesCount > 0
        }
    }
}
