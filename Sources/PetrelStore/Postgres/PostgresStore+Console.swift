import PetrelCore
import PostgresNIO

extension PostgresStore {
    public func searchMessages(_ q: MessageQuery) async throws -> [Message] {
        // Times become id ranges (ids begin with their acceptance time), so the primary key serves them.
        var binds = PostgresBindings()
        var sql = "SELECT \(Self.messageColumns) FROM messages WHERE account = $1"
        binds.append(q.account)
        func add(_ clause: String, _ value: some PostgresNonThrowingEncodable & Sendable) {
            binds.append(value)
            sql += " AND \(clause) $\(binds.count)"
        }
        if !q.to.isEmpty { add("recipient =", q.to) }
        if !q.taskId.isEmpty { add("task_id =", q.taskId) }
        if let id = q.messageId { add("id =", id) }
        if let status = q.status { add("status =", status.rawValue) }
        if let since = q.sinceMs { add("id >=", MessageIDGenerator.firstId(atMs: since)) }
        if let until = q.untilMs { add("id <", MessageIDGenerator.firstId(atMs: until)) }
        // A page newer than `afterId` reads upwards from it, then shows newest first like every page.
        let order = q.afterId != nil && q.beforeId == nil ? "ASC" : "DESC"
        if let before = q.beforeId { add("id <", before) }
        if let after = q.afterId { add("id >", after) }
        if q.isPatternSearch {
            // LIKE reads rows one by one: only among the newest `scanLimit` of the account past the page's key.
            if !q.toContains.isEmpty { add("recipient LIKE", MessageQuery.likePattern(q.toContains)) }
            if !q.textContains.isEmpty { add("lower(body) LIKE", MessageQuery.likePattern(q.textContains)) }
            var inner = "SELECT id FROM messages WHERE account = $1"
            if let before = q.beforeId {
                binds.append(before)
                inner += " AND id < $\(binds.count)"
            }
            if let after = q.afterId {
                binds.append(after)
                inner += " AND id > $\(binds.count)"
            }
            // The time range bounds the scan too, so From/Until reach past the newest `scanLimit`.
            if let since = q.sinceMs {
                binds.append(MessageIDGenerator.firstId(atMs: since))
                inner += " AND id >= $\(binds.count)"
            }
            if let until = q.untilMs {
                binds.append(MessageIDGenerator.firstId(atMs: until))
                inner += " AND id < $\(binds.count)"
            }
            binds.append(max(1, min(q.scanLimit, 1_000_000)))
            sql += " AND id IN (\(inner) ORDER BY id \(order) LIMIT $\(binds.count))"
        }
        binds.append(max(1, min(q.limit, 10_000)))
        sql += " ORDER BY id \(order) LIMIT $\(binds.count)"
        let found = try await rows(PostgresQuery(unsafeSQL: sql, binds: binds)) { try Self.message($0) }
        return order == "ASC" ? found.reversed() : found
    }

    public func parts(messageId: Int64) async throws -> [PartView] {
        try await rows(
            """
            SELECT part, total, channel, carrier_id, status, error_code, sent_at, done_at FROM message_parts
            WHERE message_id = \(messageId) ORDER BY part
            """
        ) {
            PartView(
                part: try $0.get(0),
                total: try $0.get(1),
                channel: try $0.get(2),
                carrierId: try $0.get(3),
                status: MessageStatus(rawValue: try $0.get(4)) ?? .sent,
                errorCode: try $0.get(5),
                sentAtMs: try $0.get(6),
                doneAtMs: try $0.get(7)
            )
        }
    }

    public func statusSeries(account: String, sinceMs: Int64, bucketMs: Int64) async throws -> [StatusBucket] {
        let bucket = max(bucketMs, 1)
        let rows = try await rows(
            """
            SELECT (created_at - \(sinceMs)) / \(bucket) AS b, status, COUNT(*) FROM messages
            WHERE id >= \(MessageIDGenerator.firstId(atMs: sinceMs)) AND account = \(account) AND created_at >= \(sinceMs)
            GROUP BY b, status ORDER BY b
            """
        ) { (try $0.get(0, as: Int64.self), try $0.get(1, as: Int.self), try $0.get(2, as: Int.self)) }
        var buckets: [Int64: [MessageStatus: Int]] = [:]
        for (b, status, n) in rows {
            if let s = MessageStatus(rawValue: status) { buckets[b, default: [:]][s, default: 0] += n }
        }
        return buckets.keys.sorted().map { StatusBucket(startMs: sinceMs + $0 * bucket, counts: buckets[$0]!) }
    }

    // MARK: Campaigns

    static let campaignColumns = """
        id, account, name, body, type, sender, validity, task_id, start_at, status, total_rows, valid_rows, invalid_rows, parts,
        cursor, accepted, failed, invalid_report, segments_summary, created_at, updated_at, columns, rendered_bytes
        """

    static func campaign(_ r: PostgresRandomAccessRow) throws -> CampaignRecord {
        CampaignRecord(
            id: try r.get(0),
            account: try r.get(1),
            name: try r.get(2),
            text: try r.get(3),
            type: MessageType(rawValue: try r.get(4)) ?? .mkt,
            from: try r.get(5),
            validitySeconds: try r.get(6),
            taskId: try r.get(7),
            startAtMs: try r.get(8),
            status: CampaignStatus(rawValue: try r.get(9)) ?? .draft,
            totalRows: try r.get(10),
            validRows: try r.get(11),
            invalidRows: try r.get(12),
            parts: try r.get(13),
            cursor: try r.get(14),
            accepted: try r.get(15),
            failed: try r.get(16),
            invalidReport: try r.get(17),
            segmentsSummary: try r.get(18),
            columns: try r.get(21, as: String?.self).map(CampaignRecord.columns(fromLine:)),
            renderedBytes: Int(try r.get(22, as: Int64.self)),
            createdAtMs: try r.get(19),
            updatedAtMs: try r.get(20)
        )
    }

    public func createCampaign(_ c: CampaignRecord, rows: [CampaignRow]) async throws -> Int64 {
        // One transaction: a campaign is never seen with part of its rows.
        try await transaction { t in
            let id =
                try await self.first(
                    """
                    INSERT INTO campaigns (account, name, body, type, sender, validity, task_id, start_at, status, total_rows, valid_rows,
                        invalid_rows, parts, cursor, accepted, failed, invalid_report, segments_summary, created_at, updated_at,
                        columns, rendered_bytes)
                    VALUES (\(c.account), \(c.name), \(c.text), \(c.type.rawValue), \(c.from), \(c.validitySeconds), \(c.taskId),
                        \(c.startAtMs), \(c.status.rawValue), \(c.totalRows), \(c.validRows), \(c.invalidRows), \(c.parts), \(c.cursor),
                        \(c.accepted), \(c.failed), \(CampaignRecord.preview(of: c.invalidReport)), \(c.segmentsSummary), \(c.createdAtMs),
                        \(c.updatedAtMs), \(c.columns.map(CSV.line)), \(Int64(c.renderedBytes)))
                    RETURNING id
                    """,
                    on: t
                ) { try $0.get(0, as: Int64.self) } ?? 0
            try await self.run(
                "INSERT INTO campaign_reports (campaign_id, report) VALUES (\(id), \(c.fullInvalidReport))",
                on: t
            )
            // Rows travel in slices of arrays: one statement per 10,000 rows.
            var start = 0
            while start < rows.count {
                let slice = rows[start..<min(start + 10_000, rows.count)]
                try await self.run(
                    """
                    INSERT INTO campaign_rows (campaign_id, row, recipient, body)
                    SELECT \(id), r, t, b FROM unnest(\(slice.indices.map { Int64($0) }), \(slice.map(\.to)), \(slice.map(\.body))) AS u(r, t, b)
                    """,
                    on: t
                )
                start += slice.count
            }
            return id
        }
    }

    public func campaign(id: Int64, account: String) async throws -> CampaignRecord? {
        try await first(
            "SELECT \(unescaped: Self.campaignColumns) FROM campaigns WHERE id = \(id) AND account = \(account)"
        ) {
            try Self.campaign($0)
        }
    }

    public func campaignInvalidReport(id: Int64, account: String) async throws -> String? {
        try await first(
            """
            SELECT r.report FROM campaign_reports r JOIN campaigns c ON c.id = r.campaign_id WHERE c.id = \(id) AND c.account = \(account)
            """
        ) { try $0.get(0, as: String.self) }
    }

    public func campaigns(account: String) async throws -> [CampaignRecord] {
        try await rows(
            "SELECT \(unescaped: Self.campaignColumns) FROM campaigns WHERE account = \(account) ORDER BY id DESC"
        ) {
            try Self.campaign($0)
        }
    }

    public func setCampaignStatus(
        id: Int64,
        account: String,
        to status: CampaignStatus,
        from: Set<CampaignStatus>,
        nowMs: Int64
    ) async throws -> Bool {
        try await run(
            """
            UPDATE campaigns SET status = \(status.rawValue), updated_at = \(nowMs)
            WHERE id = \(id) AND account = \(account) AND status = ANY(\(from.map(\.rawValue))) RETURNING 1
            """
        ) > 0
    }

    public func noteCampaignMessages(
        id: Int64,
        account: String,
        taskId: String,
        lowest: Int64,
        highest: Int64
    ) async throws {
        try await run(
            """
            INSERT INTO campaign_outcomes (campaign_id, account, task, first_message, last_message)
            SELECT id, account, \(taskId), \(lowest), \(highest) FROM campaigns WHERE id = \(id) AND account = \(account)
            ON CONFLICT (campaign_id) DO UPDATE SET
                first_message = LEAST(campaign_outcomes.first_message, EXCLUDED.first_message),
                last_message = GREATEST(campaign_outcomes.last_message, EXCLUDED.last_message)
            """
        )
    }

    /// The folded counts plus the messages made final since the fold's cursor, in one statement (one snapshot),
    /// as the Statistics page reads its counters.
    public func campaignOutcomes(ids: [Int64], account: String) async throws -> [Int64: CampaignOutcome] {
        guard !ids.isEmpty else { return [:] }
        let tail = StatsSQL.foldCampaignsSelect(finals: "m.fx >= (SELECT last FROM stats_fold WHERE id = 0)")
        let found = try await rows(
            """
            SELECT id, SUM(d)::bigint, SUM(f)::bigint, SUM(e)::bigint FROM (
                SELECT campaign_id, delivered, failed, expired FROM campaign_outcomes
                WHERE account = \(account) AND campaign_id = ANY(\(ids))
                UNION ALL \(unescaped: tail)) AS live(id, d, f, e)
            WHERE id IN (SELECT campaign_id FROM campaign_outcomes WHERE account = \(account) AND campaign_id = ANY(\(ids)))
            GROUP BY id
            """
        ) {
            (
                try $0.get(0, as: Int64.self), Int(try $0.get(1, as: Int64.self)), Int(try $0.get(2, as: Int64.self)),
                Int(try $0.get(3, as: Int64.self))
            )
        }
        var out: [Int64: CampaignOutcome] = [:]
        for (id, d, f, e) in found { out[id] = CampaignOutcome(delivered: d, failed: f, expired: e) }
        return out
    }

    public func runnableCampaigns(nowMs: Int64) async throws -> [CampaignRecord] {
        try await rows(
            """
            SELECT \(unescaped: Self.campaignColumns) FROM campaigns WHERE status = 'running' AND COALESCE(start_at, 0) <= \(nowMs)
            ORDER BY id
            """
        ) { try Self.campaign($0) }
    }

    public func campaignRows(id: Int64, from: Int, limit: Int) async throws -> [CampaignRow] {
        try await rows(
            "SELECT recipient, body FROM campaign_rows WHERE campaign_id = \(id) AND row >= \(from) ORDER BY row LIMIT \(limit)"
        ) { CampaignRow(to: try $0.get(0), body: try $0.get(1)) }
    }

    /// A chunk's progress, in the transaction of its messages; refused if another node moved the cursor first.
    func write(_ p: CampaignProgress, on c: PostgresConnection) async throws {
        let status = try await first(
            """
            UPDATE campaigns SET cursor = \(p.cursor), accepted = accepted + \(p.accepted), failed = failed + \(p.failed),
                updated_at = \(p.atMs),
                status = CASE WHEN \(p.cursor) >= valid_rows AND status IN ('running', 'paused') THEN 'done' ELSE status END
            WHERE id = \(p.campaignId) AND (\(p.from)::bigint IS NULL OR cursor = \(p.from))
            RETURNING status
            """,
            on: c
        ) { try $0.get(0, as: String.self) }
        guard let status else { throw StoreError.conflict("campaign \(p.campaignId) moved past row \(p.from ?? -1)") }
        if status == CampaignStatus.done.rawValue {
            try await run("DELETE FROM campaign_rows WHERE campaign_id = \(p.campaignId)", on: c)
        }
    }
}
