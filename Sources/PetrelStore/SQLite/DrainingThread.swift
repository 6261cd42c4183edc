import Foundation

/// A thread of its own that handles what other threads hand it, in groups: it sleeps until items wait, takes as
/// many as `take` chooses (all of them unless told otherwise), handles them outside the lock, and repeats. `stop`
/// refuses new items, lets the thread handle everything already handed over, and returns once it has ended.
///
/// `@unchecked Sendable`: the mutable state (`pending`, `stopped`, `finished`) is read and written only under
/// `condition`'s lock; the closures are constants, and `handle` runs only on the thread.
final class DrainingThread<Item>: @unchecked Sendable {
    private let condition = NSCondition()
    private var pending: [Item] = []
    private var stopped = false
    private var finished = false
    private let take: ([Item]) -> Int
    private let ready: ([Item]) -> Bool
    private let handle: ([Item]) -> Void

    /// `take` gets the waiting items (never empty) and answers how many of the first to handle now (at least 1).
    /// `ready` (asked under the lock) may hold waiting items back until a later `poke`; never once stopped.
    init(
        name: String,
        take: @escaping ([Item]) -> Int = { $0.count },
        ready: @escaping ([Item]) -> Bool = { _ in true },
        handle: @escaping ([Item]) -> Void
    ) {
        self.take = take
        self.ready = ready
        self.handle = handle
        let thread = Thread { [self] in
            ThreadName.set(name)
            self.loop()
        }
        thread.name = name
        thread.start()
    }

    /// Hands items to the thread; false (and nothing handed) once it was stopped.
    func add(_ items: some Sequence<Item>) -> Bool {
        condition.lock()
        guard !stopped else {
            condition.unlock()
            return false
        }
        pending.append(contentsOf: items)
        let wake = ready(pending)  // otherwise a wake-up would only find it must wait on
        condition.unlock()
        // Signalled after unlocking: woken while the lock was still held here, the thread would only block on it and
        // be woken a second time (two context switches per hand-over instead of one, measured with `perf sched`). No
        // wake-up is lost: the thread checks `pending` under the lock before it waits.
        if wake { condition.signal() }
        return true
    }

    /// Asks `ready` again: what it waited for may have happened.
    func poke() {
        // Taking the lock first: what changed is outside it, so a thread between its check and its wait must be
        // waiting before the signal (signalled after unlocking, as in `add`).
        condition.lock()
        condition.unlock()
        condition.signal()
    }

    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        while !finished { condition.wait() }
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            while (pending.isEmpty || !ready(pending)) && !stopped { condition.wait() }
            if pending.isEmpty {
                finished = true
                condition.broadcast()
                condition.unlock()
                return
            }
            let n = max(1, min(take(pending), pending.count))
            let group = Array(pending.prefix(n))
            pending.removeFirst(n)
            condition.unlock()
            handle(group)
        }
    }
}
