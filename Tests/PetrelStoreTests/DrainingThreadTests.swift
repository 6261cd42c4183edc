import Foundation
import Synchronization
import Testing

@testable import PetrelStore

/// The writer's hold: `take` may keep items back while the disk syncs, and something must always let them go.
@Suite struct DrainingThreadTests {
    final class Probe: Sendable {
        let handled = Mutex<[Int]>([])
        let release = Mutex(false)
        let overdueTakes = Mutex(0)

        func waitFor(_ count: Int, seconds: Double = 5) -> Bool {
            let end = Date().addingTimeInterval(seconds)
            while Date() < end {
                if handled.withLock({ $0.count }) >= count { return true }
                usleep(2_000)
            }
            return false
        }
    }

    func thread(_ probe: Probe, maxHold: TimeInterval, wake: @escaping ([Int]) -> Bool = { _ in false }) -> DrainingThread<Int> {
        DrainingThread(
            name: "test-drain", maxHold: maxHold, wakeWhileHolding: wake,
            take: { pending, overdue in
                if overdue { probe.overdueTakes.withLock { $0 += 1 } }
                return overdue || probe.release.withLock({ $0 }) ? pending.count : 0
            },
            handle: { items in probe.handled.withLock { $0 += items } })
    }

    @Test func heldItemsGoWhenNudged() {
        let probe = Probe()
        let t = thread(probe, maxHold: 60)
        #expect(t.add([1, 2]))
        usleep(50_000)
        #expect(probe.handled.withLock { $0.isEmpty })
        #expect(t.add([3]))   // does not wake the held thread (wakeWhileHolding says no)
        usleep(20_000)
        #expect(probe.handled.withLock { $0.isEmpty })
        probe.release.withLock { $0 = true }
        t.nudge()
        #expect(probe.waitFor(3))
        #expect(probe.handled.withLock { $0 } == [1, 2, 3])
        #expect(probe.overdueTakes.withLock { $0 } == 0)
        t.stop()
    }

    @Test func heldItemsGoWhenTheHoldRunsOut() {
        let probe = Probe()
        let t = thread(probe, maxHold: 0.05)
        let start = Date()
        #expect(t.add([7]))
        #expect(probe.waitFor(1))
        #expect(Date().timeIntervalSince(start) >= 0.05)
        #expect(probe.overdueTakes.withLock { $0 } >= 1)
        t.stop()
    }

    @Test func anItemThatMustNotWaitWakesAHeldThread() {
        let probe = Probe()
        let t = thread(probe, maxHold: 60, wake: { $0.count >= 3 })
        #expect(t.add([1]))
        usleep(30_000)
        probe.release.withLock { $0 = true }   // no nudge: only a waking add can tell the thread
        #expect(t.add([2]))
        usleep(30_000)
        #expect(probe.handled.withLock { $0.isEmpty })
        #expect(t.add([3]))
        #expect(probe.waitFor(3))
        t.stop()
    }

    @Test func stopHandlesWhatIsHeld() {
        let probe = Probe()
        let t = thread(probe, maxHold: 60)
        #expect(t.add([1, 2, 3]))
        usleep(20_000)
        t.stop()
        #expect(probe.handled.withLock { $0 } == [1, 2, 3])
        #expect(!t.add([4]))
    }
}
