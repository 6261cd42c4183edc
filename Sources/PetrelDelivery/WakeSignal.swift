import Synchronization

/// Wakes a sleeping loop early: `signal()` ends the current (or next) `wait`.
public final class WakeSignal: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    public init() {}

    public func signal() {
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            if let w = s.waiter {
                s.waiter = nil
                return w
            }
            s.pending = true
            return nil
        }
        waiter?.resume()
    }

    /// Returns on a signal, after `timeoutMs`, or when the task is cancelled.
    public func wait(timeoutMs: Int64) async {
        let ready = state.withLock { s -> Bool in
            if s.pending {
                s.pending = false
                return true
            }
            return false
        }
        if ready || Task.isCancelled { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                try? await Task.sleep(for: .milliseconds(timeoutMs))
                self.signal()
            }
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { s -> Bool in
                    if s.pending {
                        s.pending = false
                        return true
                    }
                    s.waiter = c
                    return false
                }
                if resumeNow { c.resume() }
            }
            group.cancelAll()
        }
        state.withLock { $0.pending = false }
    }
}
