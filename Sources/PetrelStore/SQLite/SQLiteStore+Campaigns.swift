import GRDB
public import PetrelCore

extension SQLiteStore {
    public func createCampaign(_ c: CampaignRecord, rows: [CampaignRow]) async throws -> Int64 {
        // One transaction: a campaign is never seen with part of its rows.
        try await committer.run(weight: rows.count + 1) { db in
            try db.execute(
                sql: """
                    INSERT INTO campaigns (account, name, body, type, sender, validity, task_id, start_at, status,
                        total_rows, valid_rows, invalid_rows, parts, cursor, accepted, failed, invalid_report,
                        segments_summary, created_at, updated_at, columns, rendered_bytes)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    c.account, c.name, c.text, c.type.rawValue, c.from, c.validitySeconds, c.taskId, c.startAtMs,
                    c.status.rawValue, c.totalRows, c.validRows, c.invalidRows, c.parts, c.cursor, c.accepted, c.failed,
                    CampaignRecord.preview(of: c.invalidReport), c.segmentsSummary, c.createdAtMs, c.updatedAtMs,
                    c.columns.map(CSV.line), c.renderedBytes,
                ]
            )
            let id = db.lastInsertedRowID
            try db.execute(
                sql: "INSERT INTO campaign_reports (campaign_id, report) VALUES (?, ?)",
                arguments: [id, c.fullInvalidReport]
            )
            let insert = try db.cachedStatement(
                sql: "INSERT INTO campaign_rows (campaign_id, row, recipient, body) VALUES (?, ?, ?, ?)"
            )
            for (i, r) in rows.enumerated() {
                try FastStatement.run(insert, db) { s in
                    s.bind(id)
                    s.bind(Int64(i))
                    s.bind(r.to)
                    s.bind(r.body)
                }
            }
            return id
        }
    }

    public func campaign(id: Int64, account: String) async throws -> CampaignRecord? {
        try readNow { db in
            try Row.fetchOne(db, sql: "SELECT * FROM campaigns WHERE id = ? AND account = ?", arguments: [id, account])
                .map(Self.campaign)
        }
    }

    public func campaignInvalidReport(id: Int64, account: String) async throws -> String? {
        try readNow { db in
            try String.fetchOne(
                db,
                sql: """
                    SELECT r.report FROM campaign_reports r JOIN campaigns c ON c.id = r.campaign_id
                    WHERE c.id = ? AND c.account = ?
                    """,
                arguments: [id, account]
            )
        }
    }

    public func campaigns(account: String) async throws -> [CampaignRecord] {
        try readNow { db in
            try Row.fetchAll(
                db,
                sql: "SELECT * FROM campaigns WHERE account = ? ORDER BY id DESC",
                arguments: [account]
            ).map(Self.campaign)
        }
    }

    public func setCampaignStatus(
        id: Int64,
        account: String,
        to status: CampaignStatus,
        from: Set<CampaignStatus>,
        nowMs: Int64
    ) async throws -> Bool {
        let allowed = from.map(\.rawValue)
        return try await committer.run { db in
            let marks = Array(repeating: "?", count: allowed.count).joined(separator: ",")
            var args: StatementArguments = [status.rawValue, nowMs, id, account]
            _ = args.append(contentsOf: StatementArguments(allowed))
            try db.execute(
                sql:
                    "UPDATE campaigns SET status = ?, updated_at = ? WHERE id = ? AND account = ? AND status IN (\(marks))",
                arguments: args
            )
            return db.changesCount > 0
        }
    }

    public func runnableCampaigns(nowMs: Int64) async throws -> [CampaignRecord] {
        try readNow { db in
            try Row.fetchAll(
                db,
                sql: "SELECT * FROM campaigns WHERE status = 'running' AND COALESCE(start_at, 0) <= ? ORDER BY id",
                arguments: [nowMs]
            ).map(Self.campaign)
        }
    }

    public func campaignRows(id: Int64, from: Int, limit: Int) async throws -> [CampaignRow] {
        try readNow { db in
            try Row.fetchAll(
                db,
                sql:
                    "SELECT recipient, body FROM campaign_rows WHERE campaign_id = ? AND row >= ? ORDER BY row LIMIT ?",
                arguments: [id, from, limit]
            ).map { CampaignRow(to: $0[0], body: $0[1]) }
        }
    }

    public func noteCampaignMessages(
        id: Int64,
        account: String,
        taskId: String,
        lowest: Int64,
        highest: Int64
    ) async throws {
        try await committer.run { db in
            try db.execute(
                sql: """
                    INSERT INTO campaign_outcomes (campaign_id, account, task, first_message, last_message)
                    SELECT id, account, ?, ?, ? FROM campaigns WHERE id = ? AND account = ?
                    ON CONFLICT (campaign_id) DO UPDATE SET
                        first_message = MIN(first_message, excluded.first_message),
                        last_message = MAX(last_message, excluded.last_message)
                    """,
                arguments: [taskId, lowest, highest, id, account]
            )
        }
    }

    public func campaignOutcomes(ids: [Int64], account: String) async throws -> [Int64: CampaignOutcome] {
        guard !ids.isEmpty else { return [:] }
        // Folded first (as the Statistics page is), so the counts are those of this moment.
        try await foldStatistics()
        let wanted = Set(ids)
        return try readNow { db in
            // One row per campaign of the account that sent anything: the list of its campaigns is read whole too.
            var out: [Int64: CampaignOutcome] = [:]
            let rows = try Row.fetchCursor(
                db,
                sql: "SELECT campaign_id, delivered, failed, expired FROM campaign_outcomes WHERE account = ?",
                arguments: [account]
            )
            while let row = try rows.next() {
                let id: Int64 = row[0]
                guard wanted.contains(id) else { continue }
                out[id] = CampaignOutcome(delivered: row[1], failed: row[2], expired: row[3])
            }
            return out
        }
    }

    /// A chunk's progress, written in the transaction of its messages; the campaign is done once every row is.
    static func write(_ p: CampaignProgress, _ db: Database) throws {
        try db.execute(
            sql: """
                UPDATE campaigns SET cursor = ?, accepted = accepted + ?, failed = failed + ?, updated_at = ?,
                    status = CASE WHEN ? >= valid_rows AND status IN ('running', 'paused') THEN 'done' ELSE status END
                WHERE id = ? AND (? IS NULL OR cursor = ?)
                """,
            arguments: [p.cursor, p.accepted, p.failed, p.atMs, p.cursor, p.campaignId, p.from, p.from]
        )
        guard db.changesCount > 0 else {
            throw StoreError.conflict("campaign \(p.campaignId) moved past row \(p.from ?? -1)")
        }
        // Rows already sent are not needed again: a finished campaign keeps only its figures. (Checked first: a
        // DELETE with the status test in its WHERE would evaluate it for every row of the campaign.)
        let status = try String.fetchOne(
            db,
            sql: "SELECT status FROM campaigns WHERE id = ?",
            arguments: [p.campaignId]
        )
        if status == CampaignStatus.done.rawValue {
            try db.execute(sql: "DELETE FROM campaign_rows WHERE campaign_id = ?", arguments: [p.campaignId])
        }
    }

    static func campaign(_ row: Row) -> CampaignRecord {
        CampaignRecord(
            id: row["id"],
            account: row["account"],
            name: row["name"],
            text: row["body"],
            type: MessageType(rawValue: row["type"]) ?? .mkt,
            from: row["sender"],
            validitySeconds: row["validity"],
            taskId: row["task_id"],
            startAtMs: row["start_at"],
            status: CampaignStatus(rawValue: row["status"]) ?? .draft,
            totalRows: row["total_rows"],
            validRows: row["valid_rows"],
            invalidRows: row["invalid_rows"],
            parts: row["parts"],
            cursor: row["cursor"],
            accepted: row["accepted"],
            failed: row["failed"],
            invalidReport: row["invalid_report"],
            segmentsSummary: row["segments_summary"],
            columns: (row["columns"] as String?).map(CampaignRecord.columns(fromLine:)),
            renderedBytes: row["rendered_bytes"],
            createdAtMs: row["created_at"],
            updatedAtMs: row["updated_at"]
        )
    }
}
