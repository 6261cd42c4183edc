import Foundation
import Logging
public import PetrelStore
public import ServiceLifecycle
import Synchronization

/// The recent pushes (receipts and inbound messages, and the console's test receipts): when, from which node, to
/// which URL, how many items, which attempt, and the answer; what the console's Receipts page lists so an operator
/// sees a receiver's answers without the logs, whichever node pushed.
///
/// `record` only appends to memory (the pushers never wait for the store); `run` writes what was recorded to the
/// store (`PushLogStore`) in one transaction every `flushMs`, and the store keeps the newest `capacity` entries per
/// account. URLs are stored with their credentials redacted (`redact`). Without a store (tests) it keeps the newest
/// `capacity` entries in memory, as before.
public final class PushLog: Service, Sendable {
    public typealias Entry = PushEntry

    public let capacity: Int
    let store: (any PushLogStore)?
    let node: String
    let flushMs: Int64
    let logger: Logger?
    private struct State {
        /// Recorded and not yet written (at most `capacity`, the oldest dropped); all of them without a store.
        var pending: [Entry] = []
        /// Being written now (still shown by `recent` until the store has them).
        var writing: [Entry] = []
    }

    private let state = Mutex(State())

    public init(
        store: (any PushLogStore)? = nil,
        node: String = "",
        capacity: Int = 500,
        flushMs: Int64 = 500,
        logger: Logger? = nil
    ) {
        self.store = store
        self.node = node
        self.capacity = max(1, capacity)
        self.flushMs = max(10, flushMs)
        self.logger = logger
    }

    public func record(_ entry: Entry) {
        var e = entry
        e.node = node
        let redacted = Self.redact(e.url)
        e.problem = e.problem.map { redacted == e.url ? $0 : $0.replacingOccurrences(of: e.url, with: redacted) }
        e.url = redacted
        state.withLock { s in
            s.pending.append(e)
            // Dropped in halves, so recording stays O(1) on average.
            if s.pending.count >= 2 * capacity { s.pending.removeFirst(s.pending.count - capacity) }
        }
    }

    /// The account's most recent pushes, newest first: every node's from the store, and this node's not written yet.
    public func recent(account: String, limit: Int = 50) async -> [Entry] {
        let limit = min(limit, capacity)
        var mine = state.withLock { s in
            Array((s.writing + s.pending).lazy.reversed().filter { $0.account == account }.prefix(limit))
        }
        guard let store else { return mine }
        var stored: [Entry] = []
        do {
            stored = try await store.recentPushes(account: account, limit: limit)
        } catch {
            logger?.storeFailure("cannot read the push log", error)
        }
        // Written meanwhile: shown once.
        mine.removeAll { stored.contains($0) }
        // Stable: entries of one millisecond keep the store's order (newest written first).
        let merged = (mine + stored).enumerated().sorted { a, b in
            a.element.atMs != b.element.atMs ? a.element.atMs > b.element.atMs : a.offset < b.offset
        }
        return Array(merged.lazy.map(\.element).prefix(limit))
    }

    /// Writes what was recorded since the last flush; returns how many entries it wrote.
    @discardableResult
    public func flush() async throws -> Int {
        guard let store else { return 0 }
        let batch = state.withLock { s -> [Entry] in
            s.writing = s.pending
            s.pending.removeAll(keepingCapacity: true)
            return s.writing
        }
        guard !batch.isEmpty else { return 0 }
        do {
            try await store.recordPushes(batch, keep: capacity)
            state.withLock { $0.writing = [] }
        } catch {
            // Kept for the next flush (still bounded).
            state.withLock { s in
                s.pending.insert(contentsOf: s.writing, at: 0)
                s.writing = []
                if s.pending.count > capacity { s.pending.removeFirst(s.pending.count - capacity) }
            }
            throw error
        }
        return batch.count
    }

    public func run() async throws {
        // Without a store it still runs until shutdown (a service that returns would end the server).
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(self.flushMs))
                do {
                    try await self.flush()
                } catch {
                    self.logger?.storeFailure("cannot write the push log", error)
                }
            }
        }
        // What the last round left (a graceful shutdown).
        _ = try? await flush()
    }

    /// `url` without secrets: the user info (user and password) and every query value become `***`; a fragment is
    /// dropped. Text that is not a URL is replaced whole.
    public static func redact(_ url: String) -> String {
        guard var c = URLComponents(string: url), c.scheme != nil else {
            return url.isEmpty ? "" : "(not a URL)"
        }
        if c.user != nil || c.password != nil {
            c.password = nil
            c.percentEncodedUser = "***"
        }
        if let items = c.queryItems, !items.isEmpty {
            c.percentEncodedQuery = items.map { $0.value == nil ? $0.name : "\($0.name)=***" }
                .map { $0.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? "***" }
                .joined(separator: "&")
        }
        c.fragment = nil
        return c.string ?? "(not a URL)"
    }
}
