import PetrelCore

extension PostgresStore {
    /// The hot batches (a nonce and messages) join the group commit without a task per request; the others
    /// (conversions, campaigns) need their own transaction, run in a task the group commit owns.
    public func commit(_ batch: WriteBatch, then: @escaping @Sendable (Result<Void, any Error>) -> Void) {
        guard !batch.isEmpty else { return then(.success(())) }
        if Self.joinsGroup(batch) { return group.commit(batch, then: then) }
        let started = group.perform {
            do {
                try await self.commit(batch)
                then(.success(()))
            } catch {
                then(.failure(error))
            }
        }
        if !started { then(.failure(StoreError.closed)) }
    }
}
