import Foundation
import GRDB
public import PetrelCore

extension SQLiteStore {
    public func accessKey(id: String) async throws -> AccessKeyRecord? {
        guard isPlainIdentifier(id) else { return nil }
        let (cached, stamp) = keyCache.lookup(id)
        if let cached { return cached }
        let row = try readNow { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM access_keys WHERE id = ?"), arguments: [id])
        }
        let key = try row.map(accessKey)
        keyCache.store(id, key, stamp: stamp)
        return key
    }

    public func cachedAccessKey(id: String) -> AccessKeyRecord?? {
        guard isPlainIdentifier(id) else { return .some(nil) }
        return keyCache.lookup(id).0
    }

    public func masterKeyFingerprint() async throws -> String? {
        try readNow { db in
            try String.fetchOne(db, sql: "SELECT value FROM settings WHERE name = 'master_key_fingerprint'")
        }
    }

    public func recordMasterKeyFingerprint(_ fingerprint: String) async throws -> String {
        try await committer.run { db in
            try db.execute(
                sql:
                    "INSERT INTO settings (name, value) VALUES ('master_key_fingerprint', ?) ON CONFLICT (name) DO NOTHING",
                arguments: [fingerprint]
            )
            return try String.fetchOne(db, sql: "SELECT value FROM settings WHERE name = 'master_key_fingerprint'")
                ?? fingerprint
        }
    }

    public func accessKeys() async throws -> [AccessKeyRecord] {
        let rows = try readNow { db in try Row.fetchAll(db, sql: "SELECT * FROM access_keys ORDER BY created_at, id") }
        return try rows.map(accessKey)
    }

    func accessKey(_ row: Row) throws -> AccessKeyRecord {
        let sealed: [UInt8] = Array(row["secret"] as Data)
        return AccessKeyRecord(
            id: row["id"],
            secret: try secrets.open(sealed),
            account: row["account"],
            name: row["name"],
            enabled: row["enabled"],
            policy: row["policy"],
            createdAtMs: row["created_at"]
        )
    }

    public func putAccessKey(_ key: AccessKeyRecord) async throws {
        let sealed = Data(try secrets.seal(key.secret))
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO access_keys (id, secret, account, name, enabled, policy, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [key.id, sealed, key.account, key.name, key.enabled, key.policy, key.createdAtMs]
            )
        }
        keyCache.invalidate()
    }

    public func setAccessKey(id: String, enabled: Bool) async throws -> Bool {
        let changed = try await pool.write { db in
            try db.execute(sql: "UPDATE access_keys SET enabled = ? WHERE id = ?", arguments: [enabled, id])
            return db.changesCount > 0
        }
        keyCache.invalidate()
        return changed
    }

    public func deleteAccessKey(id: String) async throws -> Bool {
        let deleted = try await pool.write { db in
            try db.execute(sql: "DELETE FROM access_keys WHERE id = ?", arguments: [id])
            return db.changesCount > 0
        }
        keyCache.invalidate()
        return deleted
    }

    public func template(account: String, code: String) async throws -> TemplateRecord? {
        let name = CatalogMemory.name(account, code)
        let (cached, stamp) = name.map(keyCache.template) ?? (nil, nil)
        if let cached { return cached }
        let template = try readNow { db in
            try Row.fetchOne(
                db.cachedStatement(sql: "SELECT * FROM templates WHERE account = ? AND code = ?"),
                arguments: [account, code]
            )
            .map(Self.template)
        }
        if let name { keyCache.store(name, template: template, stamp: stamp) }
        return template
    }

    public func cachedTemplate(account: String, code: String) -> TemplateRecord?? {
        CatalogMemory.name(account, code).flatMap { keyCache.template($0).0 }
    }

    public func templates(account: String?) async throws -> [TemplateRecord] {
        try readNow { db in
            if let account {
                return try Row.fetchAll(
                    db,
                    sql: "SELECT * FROM templates WHERE account = ? ORDER BY code",
                    arguments: [account]
                )
                .map(Self.template)
            }
            return try Row.fetchAll(db, sql: "SELECT * FROM templates ORDER BY account, code").map(Self.template)
        }
    }

    public func putTemplate(_ t: TemplateRecord) async throws {
        defer { keyCache.invalidate() }
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO templates (account, code, body, created_at, name, kind, remark, audit, reason,
                        audited_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: Self.templateArguments(t)
            )
        }
    }

    public func deleteTemplate(account: String, code: String) async throws -> Bool {
        defer { keyCache.invalidate() }
        return try await pool.write { db in
            try db.execute(sql: "DELETE FROM templates WHERE account = ? AND code = ?", arguments: [account, code])
            return db.changesCount > 0
        }
    }

    static func template(_ row: Row) -> TemplateRecord {
        TemplateRecord(
            account: row["account"],
            code: row["code"],
            text: row["body"],
            createdAtMs: row["created_at"],
            name: row["name"],
            type: row["kind"],
            remark: row["remark"],
            audit: AuditState(rawValue: row["audit"]) ?? .pending,
            reason: row["reason"],
            auditedAtMs: row["audited_at"]
        )
    }

    static func templateArguments(_ t: TemplateRecord) -> StatementArguments {
        [t.account, t.code, t.text, t.createdAtMs, t.name, t.type, t.remark, t.audit.rawValue, t.reason, t.auditedAtMs]
    }
}
