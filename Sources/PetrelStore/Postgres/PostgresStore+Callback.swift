import PetrelCore

extension PostgresStore {
    public func commit(_ batch: WriteBatch, then: @escaping @Sendable (Result<Void, any Error>) -> Void) {
        Task {
            do {
                try await commit(batch)
                then(.success(()))
            } catch {
                then(.failure(error))
            }
        }
    }
}
