public import PetrelCore

/// Each account's suppression list: phones that opted out (replied STOP, or an operator put them there). Every
/// change takes the next version from one row, so changes commit in version order even with several nodes on
/// PostgreSQL (the row's lock makes writers take turns): a node that has read every change up to a version has
/// missed none below it, and reads only what came after (`optOutChanges`).
public protocol SuppressionList: Sendable {
    /// Puts `phones` on `account`'s list; returns how many were not on it. Throws `OptOutListFull`, adding none,
    /// when the lists would hold more than `maxPhones` in all.
    func optOut(account: String, phones: [String], source: String, maxPhones: Int, nowMs: Int64) async throws -> Int
    /// Takes `phones` off `account`'s list; returns how many were on it.
    func optIn(account: String, phones: [String], source: String, nowMs: Int64) async throws -> Int
    /// The phones on the lists (one account's, or all), most recently added first.
    func optOuts(account: String?, limit: Int) async throws -> [OptOutEntry]
    /// Changes (opt-outs and opt-ins) after `cursor`, in the order they were made, at most `limit`: what a node's
    /// in-memory board applies. The last one's `cursor` is where the next call starts.
    func optOutChanges(after cursor: OptOutCursor, limit: Int) async throws -> [OptOutEntry]
    /// Forgets phones taken off before `beforeMs` (every node has read it by then; one that has not reloads all).
    func pruneOptIns(beforeMs: Int64) async throws -> Int
}

public struct OptOutEntry: Sendable, Equatable {
    public var account: String
    public var phone: String
    /// False: the phone opted in again (kept so that nodes learn it; not listed by `optOuts`).
    public var optedOut: Bool
    /// How it got there: `STOP` (the keyword it sent), `cli`, `console`, `import`.
    public var source: String
    public var changedAtMs: Int64
    public var version: Int64

    public init(
        account: String,
        phone: String,
        optedOut: Bool,
        source: String,
        changedAtMs: Int64,
        version: Int64
    ) {
        self.account = account
        self.phone = phone
        self.optedOut = optedOut
        self.source = source
        self.changedAtMs = changedAtMs
        self.version = version
    }

    public var cursor: OptOutCursor { OptOutCursor(version: version, account: account, phone: phone) }
}

/// `optOut.maxPhones` would be exceeded.
public struct OptOutListFull: Error, CustomStringConvertible {
    public var maxPhones: Int

    public init(maxPhones: Int) { self.maxPhones = maxPhones }

    public var description: String {
        "the suppression lists would hold more than optOut.maxPhones (\(maxPhones)) phones; nothing was added"
    }
}
