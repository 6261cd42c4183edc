import Foundation
import PetrelCore
import PostgresNIO

extension PostgresStore {
    // Keys are cached per node and forgotten on every change anywhere (PostgresKeyCache: LISTEN/NOTIFY).
    static let keyColumns = "id, secret, account, name, enabled, policy, created_at"

    func accessKey(_ r: PostgresRandomAccessRow) throws -> AccessKeyRecord {
        AccessKeyRecord(
            id: try r.get(0),
            secret: try secrets.open(Array(try r.get(1, as: Data.self))),
            account: try r.get(2),
            name: try r.get(3),
            enabled: try r.get(4),
            policy: try r.get(5),
            createdAtMs: try r.get(6)
        )
    }

    public func accessKey(id: String) async throws -> AccessKeyRecord? {
        guard isPlainIdentifier(id) else { return nil }
        let (cached, generation) = keys.lookup(id)
        if let cached { return cached }
        let key = try await prepared(AccessKeySQL.self, { $0.append(id) }, { try self.accessKey($0) }).first
        keys.store(id, key, generation: generation)
        return key
    }

    public func masterKeyFingerprint() async throws -> String? {
        try await first("SELECT value FROM settings WHERE name = 'master_key_fingerprint'") {
            try $0.get(0, as: String.self)
        }
    }

    public func recordMasterKeyFingerprint(_ fingerprint: String) async throws -> String {
        _ = try await run(
            "INSERT INTO settings (name, value) VALUES ('master_key_fingerprint', \(fingerprint)) ON CONFLICT (name) DO NOTHING"
        )
        return try await masterKeyFingerprint() ?? fingerprint
    }

    public func accessKeys() async throws -> [AccessKeyRecord] {
        try await rows("SELECT \(unescaped: Self.keyColumns) FROM access_keys ORDER BY created_at, id") {
            try self.accessKey($0)
        }
    }

    public func putAccessKey(_ k: AccessKeyRecord) async throws {
        let sealed = Data(try secrets.seal(k.secret))
        try await changeKeys(
            """
            INSERT INTO access_keys (id, secret, account, name, enabled, policy, created_at)
            VALUES (\(k.id), \(sealed), \(k.account), \(k.name), \(k.enabled), \(k.policy), \(k.createdAtMs))
            ON CONFLICT (id) DO UPDATE SET secret = EXCLUDED.secret, account = EXCLUDED.account, name = EXCLUDED.name,
                enabled = EXCLUDED.enabled, policy = EXCLUDED.policy, created_at = EXCLUDED.created_at
            RETURNING 1
            """
        )
    }

    /// A change of keys, signs or templates and its announcement, in one transaction: every node forgets what it
    /// cached of them when it commits.
    @discardableResult
    func changeKeys(_ q: PostgresQuery) async throws -> Bool {
        try await changeKeysCounting(q) > 0
    }

    /// `changeKeys`, with the number of rows the statement returned.
    func changeKeysCounting(_ q: PostgresQuery) async throws -> Int {
        defer { keys.invalidate() }
        return try await transaction { c in
            let n = try await self.run(q, on: c)
            try await self.run("SELECT pg_notify(\(PostgresKeyCache.channel), '')", on: c)
            return n
        }
    }

    public func setAccessKey(id: String, enabled: Bool) async throws -> Bool {
        try await changeKeys("UPDATE access_keys SET enabled = \(enabled) WHERE id = \(id) RETURNING 1")
    }

    public func deleteAccessKey(id: String) async throws -> Bool {
        try await changeKeys("DELETE FROM access_keys WHERE id = \(id) RETURNING 1")
    }

    static let templateColumns =
        "account, code, body, created_at, name, kind::bigint, remark, audit::bigint, reason, audited_at"

    static func template(_ r: PostgresRandomAccessRow) throws -> TemplateRecord {
        TemplateRecord(
            account: try r.get(0),
            code: try r.get(1),
            text: try r.get(2),
            createdAtMs: try r.get(3),
            name: try r.get(4),
            type: try r.get(5),
            remark: try r.get(6),
            audit: AuditState(rawValue: try r.get(7)) ?? .pending,
            reason: try r.get(8),
            auditedAtMs: try r.get(9)
        )
    }

    public func template(account: String, code: String) async throws -> TemplateRecord? {
        let name = CatalogMemory.name(account, code)
        let (cached, generation) = name.map(keys.template) ?? (nil, 0)
        if let cached { return cached }
        let template = try await first(
            """
            SELECT \(unescaped: Self.templateColumns) FROM templates WHERE account = \(account) AND code = \(code)
            """
        ) {
            try Self.template($0)
        }
        if let name { keys.store(name, template: template, generation: generation) }
        return template
    }

    public func cachedTemplate(account: String, code: String) -> TemplateRecord?? {
        CatalogMemory.name(account, code).flatMap { keys.template($0).0 }
    }

    public func templates(account: String?) async throws -> [TemplateRecord] {
        try await rows(
            """
            SELECT \(unescaped: Self.templateColumns) FROM templates WHERE \(account)::text IS NULL OR account = \(account)
            ORDER BY account, code
            """
        ) { try Self.template($0) }
    }

    public func putTemplate(_ t: TemplateRecord) async throws {
        try await changeKeys(
            """
            INSERT INTO templates (account, code, body, created_at, name, kind, remark, audit, reason, audited_at)
            VALUES (\(t.account), \(t.code), \(t.text), \(t.createdAtMs), \(t.name), \(Int16(clamping: t.type)),
                \(t.remark), \(Int16(clamping: t.audit.rawValue)), \(t.reason), \(t.auditedAtMs))
            ON CONFLICT (account, code) DO UPDATE SET body = EXCLUDED.body, created_at = EXCLUDED.created_at,
                name = EXCLUDED.name, kind = EXCLUDED.kind, remark = EXCLUDED.remark, audit = EXCLUDED.audit,
                reason = EXCLUDED.reason, audited_at = EXCLUDED.audited_at
            """
        )
    }

    public func deleteTemplate(account: String, code: String) async throws -> Bool {
        try await changeKeys("DELETE FROM templates WHERE account = \(account) AND code = \(code) RETURNING 1")
    }
}
