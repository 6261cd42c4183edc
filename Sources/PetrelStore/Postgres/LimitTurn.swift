import Synchronization

/// This node's limited decisions take turns (first come, first served): a decision made in memory must see the
/// sends of the one before it, which it can only once that one committed and was counted. What does not need
/// memory (storing a group's messages) runs before the turn is taken, so two groups still overlap.
final class LimitTurn: Sendable {
    private let turn = Turn()

    func take() async { await turn.take() }

    func give() { turn.give() }

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
