/// The recent pushes of every node sharing the store (receipts, inbound messages, the console's test receipts),
/// for the console's Receipts page. Bounded: each write keeps only the newest entries of the accounts it wrote for.
public protocol PushLogStore: Sendable {
    /// Appends `entries` (in one transaction), then keeps only the newest `keep` entries of each of their accounts.
    func recordPushes(_ entries: [PushEntry], keep: Int) async throws
    /// The account's most recent pushes, newest first.
    func recentPushes(account: String, limit: Int) async throws -> [PushEntry]
}

/// One POST to a receiver: when, from which node, to which URL (credentials redacted before it is stored), how many
/// items, which attempt, and the answer.
public struct PushEntry: Sendable, Equatable {
    public var atMs: Int64
    /// The node that pushed (its `nodeName`).
    public var node: String
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
        node: String = "",
        account: String,
        kind: String,
        url: String,
        items: Int,
        attempt: Int,
        problem: String?
    ) {
        self.atMs = atMs
        self.node = node
        self.account = account
        self.kind = kind
        self.url = url
        self.items = items
        self.attempt = attempt
        self.problem = problem
    }
}
