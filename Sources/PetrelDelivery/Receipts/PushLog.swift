import Synchronization

/// The recent pushes of this node (receipts and inbound messages, and the console's test receipts): when, to which
/// URL, how many items, which attempt, and the answer. In memory and bounded (`capacity` entries, the oldest
/// dropped): what the console's Receipts page lists so an operator sees a receiver's answers without the logs.
public final class PushLog: Sendable {
    public struct Entry: Sendable, Equatable {
        public var atMs: Int64
        public var account: String
        /// "receipt", "inbound message" or "test receipt".
        public var kind: String
        public var url: String
        public var items: Int
        /// The attempt this was for the batch's most-tried item (1 = first).
        public var attempt: Int
        /// Why the receiver did not take it; nil: taken.
        public var problem: String?

        public init(
            atMs: Int64,
            account: String,
            kind: String,
            url: String,
            items: Int,
            attempt: Int,
            problem: String?
        ) {
            self.atMs = atMs
            self.account = account
            self.kind = kind
            self.url = url
            self.items = items
            self.attempt = attempt
            self.problem = problem
        }
    }

    public let capacity: Int
    private let entries = Mutex<[Entry]>([])

    public init(capacity: Int = 500) { self.capacity = max(1, capacity) }

    public func record(_ entry: Entry) {
        entries.withLock { all in
            all.append(entry)
            // Dropped in halves, so recording stays O(1) on average.
            if all.count >= 2 * capacity { all.removeFirst(all.count - capacity) }
        }
    }

    /// The account's most recent pushes, newest first.
    public func recent(account: String, limit: Int = 50) -> [Entry] {
        entries.withLock { all in
            Array(all.lazy.reversed().filter { $0.account == account }.prefix(min(limit, capacity)))
        }
    }
}
