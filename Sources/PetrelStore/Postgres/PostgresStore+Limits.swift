public import PetrelCore
import PostgresNIO

extension PostgresStore {
    /// Sends join the group commit's limited groups (`commitGroup`); a campaign's chunk takes its own transaction,
    /// in a task the group commit owns (as conversions).
    public func commit(
        _ batch: WriteBatch,
        limits: SendLimits,
        then: @escaping @Sendable (Result<[ResponseCode?], any Error>) -> Void
    ) {
        if Self.joinsGroup(batch) { return group.commit(batch, limits: limits, then: then) }
        let started = group.perform {
            do {
                then(.success(try await self.commitAlone(batch, limits: limits)))
            } catch {
                then(.failure(error))
            }
        }
        if !started { then(.failure(StoreError.closed)) }
    }

    public func commit(_ batch: WriteBatch, limits: SendLimits) async throws -> [ResponseCode?] {
        try await withCheckedThrowingContinuation { c in commit(batch, limits: limits) { c.resume(with: $0) } }
    }

    /// One request in a transaction of its own: a campaign's chunk, or a request its group failed.
    func commitAlone(_ batch: WriteBatch, limits: SendLimits) async throws -> [ResponseCode?] {
        try await commitGroup([(batch, limits)])[0]
    }

    public func pruneSendCounts(beforeMs: Int64) async throws -> Int {
        var pruned = sendMemory.sweep(before: beforeMs)
        // In batches by the index on `at` (a busy day leaves millions of rows: one statement would hold their
        // locks and send a row back for each), counted on the server. Log rows are storage, not sends: what they
        // held was counted in memory above.
        for table in ["send_counts", "send_log"] {
            let batch = 5000
            while true {
                let n =
                    try await first(
                        """
                        WITH gone AS (
                            DELETE FROM \(unescaped: table) WHERE ctid = ANY(ARRAY(
                                SELECT ctid FROM \(unescaped: table) WHERE at <= \(beforeMs) LIMIT \(batch)))
                            RETURNING 1)
                        SELECT count(*) FROM gone
                        """
                    ) { Int(try $0.get(0, as: Int64.self)) } ?? 0
                if table == "send_counts" { pruned += n }
                if n < batch { break }
            }
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
        guard !recipients.isEmpty else { return [:] }
        // Memory keeps every send the log still holds (the prune bounds it): `sinceMs` may be later than an
        // accept's day (a campaign starting later).
        let read = try await countedHistory([account: Set(recipients)], since: sinceMs, keeping: 0, on: nil)
        return read.history[account] ?? [:]
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
