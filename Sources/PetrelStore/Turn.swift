import Synchronization

/// Lets async work take turns, first come, first served: `take` waits until no one holds the turn, `give` hands it to
/// the first waiting (or frees it). A waiting caller is not cancelled, so the holder must give it back in bounded time.
public final class Turn: Sendable {
    private struct State {
        var held = false
        var waiting: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    public init() {}

    public func take() async {
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

    public func give() {
        let next = state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard !s.waiting.isEmpty else {
                s.held = false
                return nil
            }
            return s.waiting.removeFirst()
        }
        next?.resume()
    }

    /// `work` in a turn of its own.
    public func run<T: Sendable>(_ work: () async throws -> T) async rethrows -> T {
        await take()
        defer { give() }
        return try await work()
    }
}
