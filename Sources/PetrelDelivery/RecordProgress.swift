import Synchronization

/// How far the dispatcher has recorded what channels reported, for a receipt that must not overtake its message's
/// record: an SMSC may send a receipt within milliseconds of `submit_sm_resp`, before the round that records the
/// message sent has committed. Applied then, the receipt finds no message and is kept as an orphan, to be adopted
/// by that record later, which costs the store far more than applying it a moment later.
final class RecordProgress: Sendable {
    private struct State {
        /// Outcomes reported so far, and recorded so far (rounds record one at a time, in order).
        var reported = 0
        var recorded = 0
        var waiters: [Int: (target: Int, resume: CheckedContinuation<Void, Never>)] = [:]
        var nextWaiter = 0
    }

    private let state = Mutex(State())

    /// Counts `n` outcomes reported; returns the number of the last.
    func report(_ n: Int) { state.withLock { $0.reported += n } }

    /// The number of outcomes reported so far.
    var reported: Int { state.withLock { $0.reported } }

    /// Everything up to `mark` (a `reported` read before the round took its batch) is recorded, or given up.
    func recorded(through mark: Int) {
        let ready = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.recorded = max(s.recorded, mark)
            let done = s.waiters.filter { $0.value.target <= s.recorded }
            for key in done.keys { s.waiters[key] = nil }
            return done.values.map(\.resume)
        }
        for r in ready { r.resume() }
    }

    /// Waits until everything reported before the call is recorded, or `timeoutMs` passed (a store that cannot
    /// record must not hold receipts back for long: they then go the orphan's way, as before).
    func waitForRecords(timeoutMs: Int64) async {
        let (target, recorded) = state.withLock { ($0.reported, $0.recorded) }
        guard recorded < target else { return }
        let id = state.withLock { s -> Int in
            s.nextWaiter += 1
            return s.nextWaiter
        }
        let timer = Task {
            try? await Task.sleep(for: .milliseconds(timeoutMs))
            self.release(id)
        }
        await withCheckedContinuation { c in
            let now = state.withLock { s -> Bool in
                if s.recorded >= target { return true }
                s.waiters[id] = (target, c)
                return false
            }
            if now { c.resume() }
        }
        timer.cancel()
    }

    private func release(_ id: Int) {
        let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
        waiter?.resume.resume()
    }
}
