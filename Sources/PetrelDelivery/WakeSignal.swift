import Synchronization

/// Wakes a sleeping loop early: `signal()` ends the current (or next) `wait`.
public final class WakeSignal: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())
    /// `state.pending`, readable without the lock: every accepted request signals, and while a signal is already
    /// pending another one changes nothing (the waiter's next round, which begins after it clears the flag, sees
    /// everything committed before this signal).
    private let pendingHint = Atomic(false)

    public init() {}

    public func signal() {
        if pendingHint.load(ordering: .sequentiallyConsistent) { return }
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            if let w = s.waiter {
                s.waiter = nil
                return w
            }
            s.pending = true
            pendingHint.store(true, ordering: .sequentiallyConsistent)
            return nil
        }
        waiter?.resume()
    }

    /// Takes a pending signal (under the lock).
    private func consume(_ s: inout State) -> Bool {
        guard s.pending else { return false }
        s.pending = false
        pendingHint.store(false, ordering: .sequentiallyConsistent)
        return true
    }

    /// Returns on a signal, after `timeoutMs`, or when the task is cancelled.
    public func wait(timeoutMs: Int64) async {
        let ready = state.withLock { consume(&$0) }
        if ready || Task.isCancelled { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                try? await Task.sleep(for: .milliseconds(timeoutMs))
                self.signal()
            }
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { s -> Bool in
                    if consume(&s) { return true }
                    s.waiter = c
                    return false
                }
                if resumeNow { c.resume() }
            }
            group.cancelAll()
        }
        state.withLock { _ = consume(&$0) }
    }
}
