public import PetrelCore
import PostgresNIO

extension PostgresStore {
    /// Not in the group commit: its own transaction, in a task the group commit owns (as conversions).
    public func commit(
        _ batch: WriteBatch,
        limits: NumberLimits,
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
    public func commit(_ batch: WriteBatch, limits: NumberLimits) async throws -> [ResponseCode?] {
        let account = batch.messages.first?.account ?? ""
        let since = (batch.messages.map(\.createdAtMs).max() ?? 0) - NumberLimits.horizonMs
        let recipients = SendLimitCheck.recipients(batch, limits)
        return try await transaction { c in
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
            let outcome = SendLimitCheck.decide(batch, limits, history: history)
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
            return outcome.refusals
        }
    }

    public func pruneSendCounts(beforeMs: Int64) async throws -> Int {
        try await run("DELETE FROM send_counts WHERE at <= \(beforeMs) RETURNING 1")
    }
}
