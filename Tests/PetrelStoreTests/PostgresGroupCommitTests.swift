import PetrelCore
import Synchronization
import Testing

@testable import PetrelStore

/// The PostgreSQL group commit's drain tasks are owned: closing waits for the writes they run.
@Suite struct PostgresGroupCommitTests {
    @Test func closeAwaitsRunningWritesAndRefusesNewOnes() async throws {
        let inFlight = Atomic<Int>(0)
        let written = Atomic<Int>(0)
        let group = PostgresGroupCommit(
            run: { batches in
                inFlight.add(1, ordering: .relaxed)
                try await Task.sleep(for: .milliseconds(200))
                written.add(batches.count, ordering: .relaxed)
                inFlight.subtract(1, ordering: .relaxed)
                return []
            },
            single: { _ in }
        )
        let commits = Task {
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                for i in 0..<10 { tasks.addTask { try await group.commit(WriteBatch(messages: [message(Int64(i))])) } }
                try await tasks.waitForAll()
            }
        }
        while inFlight.load(ordering: .relaxed) == 0 { try await Task.sleep(for: .milliseconds(1)) }
        await group.close()
        #expect(inFlight.load(ordering: .relaxed) == 0)
        await #expect(throws: StoreError.self) { try await group.commit(WriteBatch(messages: [message(99)])) }
        // Commits taken before the close were all written; any that came after it were refused, not lost.
        let outcome = await commits.result
        if case .success = outcome { #expect(written.load(ordering: .relaxed) == 10) }
    }
}
