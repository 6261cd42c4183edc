import PetrelCore
import PostgresNIO

extension PostgresStore {
    static let signColumns =
        "account, name, source::bigint, kind::bigint, remark, audit::bigint, reason, created_at, audited_at"

    static func sign(_ r: PostgresRandomAccessRow) throws -> SignRecord {
        SignRecord(
            account: try r.get(0),
            name: try r.get(1),
            source: try r.get(2),
            type: try r.get(3),
            remark: try r.get(4),
            audit: AuditState(rawValue: try r.get(5)) ?? .pending,
            reason: try r.get(6),
            createdAtMs: try r.get(7),
            auditedAtMs: try r.get(8)
        )
    }

    public func sign(account: String, name: String) async throws -> SignRecord? {
        try await first(
            "SELECT \(unescaped: Self.signColumns) FROM signs WHERE account = \(account) AND name = \(name)"
        ) { try Self.sign($0) }
    }

    public func signUse(account: String, name: String) async throws -> SignUse {
        let key = CatalogMemory.name(account, name)
        let (cached, generation) = key.map(keys.signUse) ?? (nil, 0)
        if let cached { return cached }
        let row = try await first(
            """
            SELECT (SELECT audit::bigint FROM signs WHERE account = \(account) AND name = \(name)),
                EXISTS (SELECT 1 FROM signs WHERE account = \(account))
            """
        ) { (audit: try $0.get(0, as: Int?.self), any: try $0.get(1, as: Bool.self)) }
        let use = SignUse(audit: row?.audit, any: row?.any ?? false)
        if let key { keys.store(key, signUse: use, generation: generation) }
        return use
    }

    public func cachedSignUse(account: String, name: String) -> SignUse? {
        CatalogMemory.name(account, name).flatMap { keys.signUse($0).0 }
    }

    public func signs(account: String, offset: Int, limit: Int) async throws -> (total: Int, signs: [SignRecord]) {
        let total = try await first("SELECT COUNT(*) FROM signs WHERE account = \(account)") {
            try $0.get(0, as: Int.self)
        }
        let page = try await rows(
            """
            SELECT \(unescaped: Self.signColumns) FROM signs WHERE account = \(account) ORDER BY name
            LIMIT \(max(0, limit)) OFFSET \(max(0, offset))
            """
        ) { try Self.sign($0) }
        return (total ?? 0, page)
    }

    public func addSign(_ s: SignRecord, max: Int) async throws -> AddOutcome {
        // One statement: the count and the insert see the same snapshot (concurrent adds may pass `max` by as
        // many as run at once, which the caller bounds).
        let added = try await changeKeysCounting(
            """
            INSERT INTO signs (account, name, source, kind, remark, audit, reason, created_at, audited_at)
            SELECT \(s.account), \(s.name), \(Int16(clamping: s.source)), \(Int16(clamping: s.type)), \(s.remark),
                \(Int16(clamping: s.audit.rawValue)), \(s.reason), \(s.createdAtMs), \(s.auditedAtMs)
            WHERE (SELECT COUNT(*) FROM signs WHERE account = \(s.account)) < \(max)
            ON CONFLICT (account, name) DO NOTHING RETURNING 1
            """
        )
        if added > 0 { return .added }
        return try await sign(account: s.account, name: s.name) == nil ? .full : .exists
    }

    public func updateSign(_ s: SignRecord) async throws -> Bool {
        try await changeKeys(
            """
            UPDATE signs SET source = \(Int16(clamping: s.source)), kind = \(Int16(clamping: s.type)),
                remark = \(s.remark), audit = \(Int16(clamping: s.audit.rawValue)), reason = \(s.reason),
                audited_at = \(s.auditedAtMs)
            WHERE account = \(s.account) AND name = \(s.name) RETURNING 1
            """
        )
    }

    public func deleteSign(account: String, name: String) async throws -> Bool {
        try await changeKeys("DELETE FROM signs WHERE account = \(account) AND name = \(name) RETURNING 1")
    }

    public func reviewSign(
        account: String,
        name: String,
        audit: AuditState,
        reason: String,
        atMs: Int64
    ) async throws -> Bool {
        try await changeKeys(
            """
            UPDATE signs SET audit = \(Int16(clamping: audit.rawValue)), reason = \(reason), audited_at = \(atMs)
            WHERE account = \(account) AND name = \(name) RETURNING 1
            """
        )
    }

    public func awaitingReview(limit: Int) async throws -> (signs: [SignRecord], templates: [TemplateRecord]) {
        let limit = max(0, limit)
        let signs = try await rows(
            """
            SELECT \(unescaped: Self.signColumns) FROM signs WHERE audit = \(unescaped: String(AuditState.pending.rawValue))
            ORDER BY created_at, account, name LIMIT \(limit)
            """
        ) { try Self.sign($0) }
        let templates = try await rows(
            """
            SELECT \(unescaped: Self.templateColumns) FROM templates
            WHERE audit = \(unescaped: String(AuditState.pending.rawValue))
            ORDER BY created_at, account, code LIMIT \(limit)
            """
        ) { try Self.template($0) }
        return (signs, templates)
    }

    public func templates(
        account: String,
        offset: Int,
        limit: Int
    ) async throws -> (total: Int, templates: [TemplateRecord]) {
        let total = try await first("SELECT COUNT(*) FROM templates WHERE account = \(account)") {
            try $0.get(0, as: Int.self)
        }
        let page = try await rows(
            """
            SELECT \(unescaped: Self.templateColumns) FROM templates WHERE account = \(account) ORDER BY code
            LIMIT \(max(0, limit)) OFFSET \(max(0, offset))
            """
        ) { try Self.template($0) }
        return (total ?? 0, page)
    }

    public func addTemplate(_ t: TemplateRecord, max: Int) async throws -> AddOutcome {
        let added = try await changeKeysCounting(
            """
            INSERT INTO templates (account, code, body, created_at, name, kind, remark, audit, reason, audited_at)
            SELECT \(t.account), \(t.code), \(t.text), \(t.createdAtMs), \(t.name), \(Int16(clamping: t.type)),
                \(t.remark), \(Int16(clamping: t.audit.rawValue)), \(t.reason), \(t.auditedAtMs)
            WHERE (SELECT COUNT(*) FROM templates WHERE account = \(t.account)) < \(max)
            ON CONFLICT (account, code) DO NOTHING RETURNING 1
            """
        )
        if added > 0 { return .added }
        return try await template(account: t.account, code: t.code) == nil ? .full : .exists
    }

    public func updateTemplate(_ t: TemplateRecord) async throws -> Bool {
        try await changeKeys(
            """
            UPDATE templates SET body = \(t.text), name = \(t.name), kind = \(Int16(clamping: t.type)),
                remark = \(t.remark), audit = \(Int16(clamping: t.audit.rawValue)), reason = \(t.reason),
                audited_at = \(t.auditedAtMs)
            WHERE account = \(t.account) AND code = \(t.code) RETURNING 1
            """
        )
    }

    public func reviewTemplate(
        account: String,
        code: String,
        audit: AuditState,
        reason: String,
        atMs: Int64
    ) async throws -> Bool {
        try await changeKeys(
            """
            UPDATE templates SET audit = \(Int16(clamping: audit.rawValue)), reason = \(reason), audited_at = \(atMs)
            WHERE account = \(account) AND code = \(code) RETURNING 1
            """
        )
    }
}
