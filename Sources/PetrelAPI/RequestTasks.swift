import Synchronization

/// The tasks of requests that reach the gateway on an event loop but must wait for the store (an uncached key,
/// a query). The door cannot await, so each such request gets a task; they are kept here, not left bare, because a
/// request whose client hung up is waited for by nobody: shutdown cancels what is left and waits for it before
/// the store closes. A task removes itself when it ends, so this holds only the requests in flight.
final class RequestTasks: Sendable {
    private struct State {
        var next = 0
        var running: [Int: Task<Void, Never>] = [:]
        var closed = false
    }

    private let state = Mutex(State())

    /// Runs `body` in a task owned here (cancelled at once after `cancelAndWait`).
    func run(_ body: @escaping @Sendable () async -> Void) {
        state.withLock { s in
            let id = s.next
            s.next &+= 1
            // Created under the lock: the task cannot remove itself before it is recorded.
            let task = Task {
                await body()
                self.remove(id)
            }
            if s.closed { task.cancel() }
            s.running[id] = task
        }
    }

    private func remove(_ id: Int) {
        _ = state.withLock { $0.running.removeValue(forKey: id) }
    }

    var count: Int { state.withLock { $0.running.count } }

    /// Cancels the tasks still running and waits for them. A cancelled request still ends: its store calls either
    /// finish or throw, and its answer goes nowhere (its connection is gone by then).
    func cancelAndWait() async {
        let tasks = state.withLock { s in
            s.closed = true
            return Array(s.running.values)
        }
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
    }
}
