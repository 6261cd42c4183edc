import Synchronization

/// This node's limited decisions take turns (first come, first served): a decision made in memory must see the
/// sends of the one before it, which it can only once that one committed and was counted. What does not need
/// memory (storing a group's messages) runs before the turn is taken, so two groups still overlap.
final class LimitTurn: Sendable {
    private struct State {
        var held = false
        var waiting: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    func take() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                guard s.held else {
                    s.held = true
                    return true
                }
                s.waiting.append(c)
                return false
            }
            if now { c.resume() }
        }
    }

    func give() {
        let next = state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard !s.waiting.isEmpty else {
                s.held = false
                return nil
            }
            return s.waiting.removeFirst()
        }
        next?.resume()
    }

    /// A turn held through a transaction whose body may run more than once (a deadlock retried): taken once.
    final class Hold: Sendable {
        private let turn: LimitTurn
        private let taken = Mutex(false)
        private let countedFlag = Mutex(false)

        /// The group was counted in memory before its COMMIT (which may still fail).
        var counted: Bool {
            get { countedFlag.withLock { $0 } }
            set { countedFlag.withLock { $0 = newValue } }
        }

        init(_ turn: LimitTurn) { self.turn = turn }

        func take() async {
            guard !taken.withLock({ $0 }) else { return }
            await turn.take()
            taken.withLock { $0 = true }
        }

        func give() {
            guard
                taken.withLock({ t in
                    defer { t = false }
                    return t
                })
            else { return }
            turn.give()
        }
    }
}
