public import PetrelCore
import PostgresNIO

extension PostgresStore {
    /// Not in the group commit: its own transaction, in a task the group commit owns (as conversions).
    public func commit(
        _ batch: WriteBatch,
        limits: SendLimits,
        then: @escaping @Sendable (Result<[ResponseCode?], any Error>) -> Void
    ) {
        let started = group.perform {
            do {
                then(.success(try await self.commit(batch, limits: limits)))
            } catch {
                then(.failure(error))
            }
        }
        if !started { then(.failure(StoreError.closed)) }
    }

    /// Exact across nodes: the transaction first takes a lock per account and recipient (advisory, held to its
    /// end, taken in sorted order so two transactions cannot wait on each other), so the accepts of one number
    /// run one after another everywhere; then it reads that number's counted sends, stores what may go and
    /// counts it before the lock is let go.
    public func commit(_ batch: WriteBatch, limits: SendLimits) async throws -> [ResponseCode?] {
        let account = batch.messages.first?.account ?? ""
        let since = (batch.messages.map(\.createdAtMs).max() ?? 0) - NumberLimits.horizonMs
        let recipients = SendLimitCheck.recipients(batch, limits.perNumber)
        let keys = Array(SendLimitCheck.capKeys(batch, limits.caps))
        return try await transaction { c in
            var used: [CapKey: Int] = [:]
            if !keys.isEmpty {
                // An account with caps: its accepts run one after another on every node (this lock first, then
                // the numbers', always in that order).
                try await self.run("SELECT pg_advisory_xact_lock(hashtextextended('caps ' || \(account), 0))", on: c)
                let rows = try await self.rows(
                    """
                    SELECT x.c, x.s, x.t, COALESCE(k.parts, 0)
                    FROM unnest(\(keys.map(\.country))::text[], \(keys.map(\.window.rawValue))::text[],
                        \(keys.map(\.start))::bigint[]) AS x(c, s, t)
                    LEFT JOIN cap_counts k ON k.account = \(account) AND k.country = x.c AND k.span = x.s
                        AND k.start = x.t
                    """,
                    on: c
                ) { row in
                    (
                        try row.get(0, as: String.self), try row.get(1, as: String.self),
                        try row.get(2, as: Int64.self),
                        try row.get(3, as: Int64.self)
                    )
                }
                for (country, span, start, parts) in rows {
                    guard let window = CapWindow(rawValue: span) else { continue }
                    used[CapKey(country: country, window: window, start: start)] = Int(parts)
                }
            }
            var history: [String: [LimitedSend]] = [:]
            if !recipients.isEmpty {
                try await self.run(
                    """
                    SELECT pg_advisory_xact_lock(hashtextextended(\(account) || ' ' || r, 0))
                    FROM unnest(\(recipients)::text[]) WITH ORDINALITY AS x(r, i) ORDER BY i
                    """,
                    on: c
                )
                // What is older than the longest window never counts again: forgotten as the number is touched.
                try await self.run(
                    """
                    DELETE FROM send_counts WHERE account = \(account) AND recipient = ANY(\(recipients)::text[])
                    AND at <= \(since) RETURNING 1
                    """,
                    on: c
                )
                let rows = try await self.rows(
                    """
                    SELECT recipient, type, at FROM send_counts
                    WHERE account = \(account) AND recipient = ANY(\(recipients)::text[]) AND at > \(since)
                    """,
                    on: c
                ) { row in
                    (try row.get(0, as: String.self), try row.get(1, as: String.self), try row.get(2, as: Int64.self))
                }
                for (to, type, at) in rows {
                    if let type = MessageType(rawValue: type) {
                        history[to, default: []].append(LimitedSend(type: type, atMs: at))
                    }
                }
            }
            let outcome = SendLimitCheck.decide(batch, limits, history: history, used: used)
            try await Self.insert(outcome.kept, client: self.client, on: c, logger: self.logger)
            if let p = outcome.kept.campaign { try await self.write(p, on: c) }
            if !outcome.counted.isEmpty {
                try await self.run(
                    """
                    INSERT INTO send_counts (account, recipient, type, at)
                    SELECT \(account), r, t, a FROM unnest(\(outcome.counted.map(\.to))::text[],
                        \(outcome.counted.map(\.type.rawValue))::text[], \(outcome.counted.map(\.createdAtMs))::bigint[])
                        AS x(r, t, a)
                    """,
                    on: c
                )
            }
            if !outcome.parts.isEmpty {
                let added = Array(outcome.parts)
                try await self.run(
                    """
                    INSERT INTO cap_counts (account, country, span, start, ends, parts)
                    SELECT \(account), c, s, t, e, p FROM unnest(\(added.map(\.key.country))::text[],
                        \(added.map(\.key.window.rawValue))::text[], \(added.map(\.key.start))::bigint[],
                        \(added.map(\.value.end))::bigint[], \(added.map { Int64($0.value.parts) })::bigint[])
                        AS x(c, s, t, e, p)
                    ON CONFLICT (account, country, span, start) DO UPDATE SET parts = cap_counts.parts + excluded.parts
                    """,
                    on: c
                )
            }
            try await self.addPumpingSends(account, outcome.guarded, on: c)
            return outcome.refusals
        }
    }

    public func pruneSendCounts(beforeMs: Int64) async throws -> Int {
        // In batches by the index on `at` (a busy day leaves millions of rows: one statement would hold their
        // locks and send a row back for each), counted on the server.
        let batch = 5000
        var pruned = 0
        while true {
            let n =
                try await first(
                    """
                    WITH gone AS (
                        DELETE FROM send_counts WHERE ctid = ANY(ARRAY(
                            SELECT ctid FROM send_counts WHERE at <= \(beforeMs) LIMIT \(batch)))
                        RETURNING 1)
                    SELECT count(*) FROM gone
                    """
                ) { Int(try $0.get(0, as: Int64.self)) } ?? 0
            pruned += n
            if n < batch { break }
        }
        // Counters per account, country, window and period (caps) or bucket (the pumping guard): few rows.
        return try await pruned + run("DELETE FROM cap_counts WHERE ends <= \(beforeMs) RETURNING 1")
            + run(
                "DELETE FROM pumping_counts WHERE type = ANY(\(MessageType.allCases.map(\.rawValue))::text[]) AND start < \(beforeMs) RETURNING 1"
            )
            + run("DELETE FROM pumping_halts WHERE lifted_at < \(beforeMs) RETURNING 1")
    }

    public func countedSends(
        account: String,
        recipients: [String],
        sinceMs: Int64
    ) async throws -> [String: [LimitedSend]] {
        var out: [String: [LimitedSend]] = [:]
        // In chunks, so no one query carries a million numbers.
        var start = 0
        while start < recipients.count {
            let chunk = Array(recipients[start..<min(start + 10_000, recipients.count)])
            start += chunk.count
            let rows = try await self.rows(
                """
                SELECT recipient, type, at FROM send_counts
                WHERE account = \(account) AND recipient = ANY(\(chunk)::text[]) AND at > \(sinceMs)
                """
            ) { row in
                (try row.get(0, as: String.self), try row.get(1, as: String.self), try row.get(2, as: Int64.self))
            }
            for (to, type, at) in rows {
                if let type = MessageType(rawValue: type) {
                    out[to, default: []].append(LimitedSend(type: type, atMs: at))
                }
            }
        }
        return out
    }

    public func capCounters(account: String?, nowMs: Int64) async throws -> [CapCounter] {
        try await rows(
            """
            SELECT account, country, span, start, ends, parts FROM cap_counts
            WHERE ends > \(nowMs) AND (\(account)::text IS NULL OR account = \(account))
            ORDER BY account, country, span, start
            """
        ) { row in
            let window = CapWindow(rawValue: try row.get(2, as: String.self))
            let key = try window.map {
                CapKey(country: try row.get(1, as: String.self), window: $0, start: try row.get(3, as: Int64.self))
            }
            return try key.map {
                CapCounter(
                    account: try row.get(0, as: String.self),
                    key: $0,
                    end: try row.get(4, as: Int64.self),
                    parts: Int(try row.get(5, as: Int64.self))
                )
            }
        }.compactMap { $0 }
    }
}
