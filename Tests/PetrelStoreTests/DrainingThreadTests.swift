import Foundation
import Synchronization
import Testing

@testable import PetrelStore

@Suite struct DrainingThreadTests {
    private final class Gate: Sendable {
        let open = Atomic<Bool>(false)
    }

    /// What `ready` holds back goes on when enough has gathered, after a poke once the condition changed, and at
    /// stop; a wake-up lost between the check and the wait would leave this test waiting for its deadline.
    @Test func heldItemsGoOnWhenReadyAfterAPokeAndAtStop() async throws {
        let gate = Gate()
        let handled = Mutex<[[Int]]>([])
        let thread = DrainingThread<Int>(
            name: "test-drain",
            ready: { gate.open.load(ordering: .acquiring) || $0.count >= 3 },
            handle: { group in handled.withLock { $0.append(group) } }
        )
        func settle(_ expected: [[Int]]) async throws {
            let deadline = ContinuousClock.now + .seconds(5)
            while handled.withLock({ $0 }) != expected, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(2))
            }
            #expect(handled.withLock { $0 } == expected)
        }

        #expect(thread.add([1]))
        #expect(thread.add([2]))
        try await Task.sleep(for: .milliseconds(50))
        #expect(handled.withLock { $0 }.isEmpty)  // held: not ready yet
        #expect(thread.add([3]))
        try await settle([[1, 2, 3]])  // enough gathered: one group

        #expect(thread.add([4]))
        try await Task.sleep(for: .milliseconds(50))
        try await settle([[1, 2, 3]])
        gate.open.store(true, ordering: .releasing)
        thread.poke()
        try await settle([[1, 2, 3], [4]])

        gate.open.store(false, ordering: .releasing)
        #expect(thread.add([5]))
        thread.stop()  // stop hands over what is held
        #expect(handled.withLock { $0 } == [[1, 2, 3], [4], [5]])
        #expect(!thread.add([6]))
    }
}
