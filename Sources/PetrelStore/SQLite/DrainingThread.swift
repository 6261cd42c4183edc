import Foundation

/// A thread of its own that handles what other threads hand it, in groups: it sleeps until items wait, takes as
/// many as `take` chooses (all of them unless told otherwise), handles them outside the lock, and repeats. `stop`
/// refuses new items, lets the thread handle everything already handed over, and returns once it has ended.
///
/// `take` may also answer 0 to hold the items back for a moment (to let a group grow): the thread then sleeps
/// until `nudge`, a new item, or `maxHold` after the first item began waiting, and asks again; once the oldest
/// item has waited `maxHold`, or on `stop`, `take` is told it is overdue and must take at least one.
final class DrainingThread<Item>: @unchecked Sendable {
    private let condition = NSCondition()
    private var pending: [Item] = []
    private var stopped = false
    private var finished = false
    private let maxHold: TimeInterval
    /// When the oldest waiting item arrived (only tracked while `take` may hold).
    private var waitingSince: Date?
    /// `take` held the items back: new ones wake the thread only if `wakeWhileHolding` says so.
    private var holding = false
    private let wakeWhileHolding: ([Item]) -> Bool
    private let take: (_ pending: [Item], _ overdue: Bool) -> Int
    private let handle: ([Item]) -> Void

    /// `take` gets the waiting items (never empty) and answers how many of the first to handle now: at least 1 when
    /// `overdue`, 0 to hold them back otherwise. While held, an item handed over wakes the thread only when
    /// `wakeWhileHolding` (given all waiting items) says so: waking it for each would cost a context switch each.
    init(
        name: String, maxHold: TimeInterval = 0, wakeWhileHolding: @escaping ([Item]) -> Bool = { _ in true },
        take: @escaping (_ pending: [Item], _ overdue: Bool) -> Int = { p, _ in p.count },
        handle: @escaping ([Item]) -> Void
    ) {
        self.maxHold = maxHold
        self.wakeWhileHolding = wakeWhileHolding
        self.take = take
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
        defer { condition.unlock() }
        guard !stopped else { return false }
        if pending.isEmpty, maxHold > 0 { waitingSince = Date() }
        pending.append(contentsOf: items)
        if !holding || wakeWhileHolding(pending) { condition.signal() }
        return true
    }

    /// Wakes the thread to ask `take` again (what it was waiting for may have happened).
    func nudge() {
        condition.lock()
        condition.signal()
        condition.unlock()
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
            while pending.isEmpty && !stopped { condition.wait() }
            if pending.isEmpty {
                finished = true
                condition.broadcast()
                condition.unlock()
                return
            }
            var n = 0
            while !pending.isEmpty {
                let deadline = waitingSince.map { $0 + maxHold }
                let overdue = stopped || deadline.map { $0 <= Date() } ?? true
                n = min(take(pending, overdue), pending.count)
                if n > 0 || overdue { break }
                holding = true
                _ = condition.wait(until: deadline!)
                holding = false
            }
            n = max(1, n)
            let group = Array(pending.prefix(n))
            pending.removeFirst(n)
            if maxHold > 0 { waitingSince = pending.isEmpty ? nil : Date() }
            condition.unlock()
            handle(group)
        }
    }
}
