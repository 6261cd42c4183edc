import GRDB
public import PetrelCore

extension SQLiteStore {
    public func sign(account: String, name: String) async throws -> SignRecord? {
        try readNow { db in
            try Row.fetchOne(
                db.cachedStatement(sql: "SELECT * FROM signs WHERE account = ? AND name = ?"),
                arguments: [account, name]
            )
            .map(Self.sign)
        }
    }

    public func signUse(account: String, name: String) async throws -> SignUse {
        let key = CatalogMemory.name(account, name)
        let (cached, stamp) = key.map(keyCache.signUse) ?? (nil, nil)
        if let cached { return cached }
        let use = try readNow { db in
            let row = try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT (SELECT audit FROM signs WHERE account = ?1 AND name = ?2),
                            EXISTS (SELECT 1 FROM signs WHERE account = ?1)
                        """
                ),
                arguments: [account, name]
            )
            return SignUse(audit: row?[0], any: row?[1] ?? false)
        }
        if let key { keyCache.store(key, signUse: use, stamp: stamp) }
        return use
    }

    public func cachedSignUse(account: String, name: String) -> SignUse? {
        CatalogMemory.name(account, name).flatMap { keyCache.signUse($0).0 }
    }

    public func signs(account: String, offset: Int, limit: Int) async throws -> (total: Int, signs: [SignRecord]) {
        try readNow { db in
            let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM signs WHERE account = ?", arguments: [account])
            let page = try Row.fetchAll(
                db,
                sql: "SELECT * FROM signs WHERE account = ? ORDER BY name LIMIT ? OFFSET ?",
                arguments: [account, max(0, limit), max(0, offset)]
            )
            return (total ?? 0, page.map(Self.sign))
        }
    }

    public func addSign(_ s: SignRecord, max: Int) async throws -> AddOutcome {
        defer { keyCache.invalidate() }
        return try await pool.write { db in
            try Self.add(db, table: "signs", key: "name", account: s.account, value: s.name, max: max) {
                try db.execute(
                    sql: """
                        INSERT INTO signs (account, name, source, kind, remark, audit, reason, created_at, audited_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        s.account, s.name, s.source, s.type, s.remark, s.audit.rawValue, s.reason, s.createdAtMs,
                        s.auditedAtMs,
                    ]
                )
            }
        }
    }

    public func updateSign(_ s: SignRecord) async throws -> Bool {
        defer { keyCache.invalidate() }
        return try await pool.write { db in
            try db.execute(
                sql: """
                    UPDATE signs SET source = ?, kind = ?, remark = ?, audit = ?, reason = ?, audited_at = ?
                    WHERE account = ? AND name = ?
                    """,
                arguments: [s.source, s.type, s.remark, s.audit.rawValue, s.reason, s.auditedAtMs, s.account, s.name]
            )
            return db.changesCount > 0
        }
    }

    public func deleteSign(account: String, name: String) async throws -> Bool {
        defer { keyCache.invalidate() }
        return try await pool.write { db in
            try db.execute(sql: "DELETE FROM signs WHERE account = ? AND name = ?", arguments: [account, name])
            return db.changesCount > 0
        }
    }

    public func reviewSign(
        account: String,
        name: String,
        audit: AuditState,
        reason: String,
        atMs: Int64
    ) async throws -> Bool {
        defer { keyCache.invalidate() }
        return try await pool.write { db in
            try db.execute(
                sql: "UPDATE signs SET audit = ?, reason = ?, audited_at = ? WHERE account = ? AND name = ?",
                arguments: [audit.rawValue, reason, atMs, account, name]
            )
            return db.changesCount > 0
        }
    }

    public func awaitingReview(limit: Int) async throws -> (signs: [SignRecord], templates: [TemplateRecord]) {
        let pending = AuditState.pending.rawValue
        let limit = max(0, limit)
        return try await readAside { db in
            let signs = try Row.fetchAll(
                db,
                sql: "SELECT * FROM signs WHERE audit = ? ORDER BY created_at, account, name LIMIT ?",
                arguments: [pending, limit]
            )
            let templates = try Row.fetchAll(
                db,
                sql: "SELECT * FROM templates WHERE audit = ? ORDER BY created_at, account, code LIMIT ?",
                arguments: [pending, limit]
            )
            return (signs.map(Self.sign), templates.map(Self.template))
        }
    }

    public func templates(
        account: String,
        offset: Int,
        limit: Int
    ) async throws -> (total: Int, templates: [TemplateRecord]) {
        try readNow { db in
            let total = try Int.fetchOne(
                db,
                sql: "SELECT COUNT(*) FROM templates WHERE account = ?",
                arguments: [account]
            )
            let page = try Row.fetchAll(
                db,
                sql: "SELECT * FROM templates WHERE account = ? ORDER BY code LIMIT ? OFFSET ?",
                arguments: [account, max(0, limit), max(0, offset)]
            )
            return (total ?? 0, page.map(Self.template))
        }
    }

    public func addTemplate(_ t: TemplateRecord, max: Int) async throws -> AddOutcome {
        defer { keyCache.invalidate() }
        return try await pool.write { db in
            try Self.add(db, table: "templates", key: "code", account: t.account, value: t.code, max: max) {
                try db.execute(
                    sql: """
                        INSERT INTO templates (account, code, body, created_at, name, kind, remark, audit, reason,
                            audited_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: Self.templateArguments(t)
                )
            }
        }
    }

    public func updateTemplate(_ t: TemplateRecord) async throws -> Bool {
        defer { keyCache.invalidate() }
        return try await pool.write { db in
            try db.execute(
                sql: """
                    UPDATE templates SET body = ?, name = ?, kind = ?, remark = ?, audit = ?, reason = ?, audited_at = ?
                    WHERE account = ? AND code = ?
                    """,
                arguments: [
                    t.text, t.name, t.type, t.remark, t.audit.rawValue, t.reason, t.auditedAtMs, t.account, t.code,
                ]
            )
            return db.changesCount > 0
        }
    }

    public func reviewTemplate(
        account: String,
        code: String,
        audit: AuditState,
        reason: String,
        atMs: Int64
    ) async throws -> Bool {
        defer { keyCache.invalidate() }
        return try await pool.write { db in
            try db.execute(
                sql: "UPDATE templates SET audit = ?, reason = ?, audited_at = ? WHERE account = ? AND code = ?",
                arguments: [audit.rawValue, reason, atMs, account, code]
            )
            return db.changesCount > 0
        }
    }

    /// Inserts with `insert` unless the account has the row or `max` rows already, in the writer's transaction.
    static func add(
        _ db: Database,
        table: String,
        key: String,
        account: String,
        value: String,
        max: Int,
        insert: () throws -> Void
    ) throws -> AddOutcome {
        let exists = try Bool.fetchOne(
            db,
            sql: "SELECT EXISTS (SELECT 1 FROM \(table) WHERE account = ? AND \(key) = ?)",
            arguments: [account, value]
        )
        if exists == true { return .exists }
        let count = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table) WHERE account = ?", arguments: [account])
        if (count ?? 0) >= max { return .full }
        try insert()
        return .added
    }

    static func sign(_ row: Row) -> SignRecord {
        SignRecord(
            account: row["account"],
            name: row["name"],
            source: row["source"],
            type: row["kind"],
            remark: row["remark"],
            audit: AuditState(rawValue: row["audit"]) ?? .pending,
            reason: row["reason"],
            createdAtMs: row["created_at"],
            auditedAtMs: row["audited_at"]
        )
    }
}
