public import PetrelCore

/// The accept path: one request's messages, nonce and records written durably in one transaction.
public protocol AcceptLog: Sendable {
    /// Writes one request's messages, nonce and records in one transaction; returns once they are durable.
    /// Concurrent calls share a commit (group commit).
    func commit(_ batch: WriteBatch) async throws
    /// `commit` for a caller that must not wait in a task (the RPC door on its event loop): `then` gets the outcome
    /// once the batch is durable. Where `then` runs is the store's seam with the caller's threads: SQLite calls it on
    /// the event loop that called `commit` (the door's, so the answer is written without another hop), PostgreSQL on
    /// its connection's loop. Callers must not block in `then`.
    func commit(_ batch: WriteBatch, then: @escaping @Sendable (Result<Void, any Error>) -> Void)
    /// The largest message id ever stored (0 when empty), so a restarted id generator continues above it.
    func maxMessageId() async throws -> Int64
    /// Nonces still remembered at `nowMs`, to warm the in-memory replay guard after a restart.
    func liveNonces(nowMs: Int64) async throws -> [NonceRecord]
    func pruneNonces(nowMs: Int64) async throws -> Int
}
