import Synchronization

/// The keywords that put a phone on an account's suppression list (STOP …) and take it off (START …), as a
/// customer's whole reply: trimmed, in any case.
public struct OptOutKeywords: Sendable, Equatable {
    public var stop: Set<String>
    public var start: Set<String>

    public static let defaultStop: Set<String> = ["STOP", "STOPALL", "UNSUBSCRIBE", "END", "QUIT", "CANCEL", "OPTOUT"]
    public static let defaultStart: Set<String> = ["START", "UNSTOP"]

    public init(stop: Set<String> = defaultStop, start: Set<String> = defaultStart) {
        self.stop = Set(stop.map { $0.uppercased() })
        self.start = Set(start.map { $0.uppercased() })
    }

    /// A keyword is at most this long; a longer reply is not read (nor uppercased) at all.
    public static let maxLength = 64

    /// True for an opt-out, false for an opt-in, nil for any other text.
    public func optsOut(_ text: String) -> Bool? {
        guard text.utf8.count <= Self.maxLength * 4 else { return nil }
        let word = text.trimmingWhitespace().uppercased()
        if stop.contains(word) { return true }
        if start.contains(word) { return false }
        return nil
    }
}

/// A phone put on (or taken off) an account's suppression list by its own reply.
public struct OptOutChange: Sendable, Equatable {
    public var account: String
    public var phone: String
    public var optedOut: Bool
    /// The number the customer wrote to (a confirmation goes back from it).
    public var to: String

    public init(account: String, phone: String, optedOut: Bool, to: String) {
        self.account = account
        self.phone = phone
        self.optedOut = optedOut
        self.to = to
    }
}

/// Where a reader of `optOutChanges` stands: changes share a version when made together (an import), so the
/// account and phone order them within one.
public struct OptOutCursor: Sendable, Equatable {
    public var version: Int64
    public var account: String
    public var phone: String

    public init(version: Int64, account: String, phone: String) {
        self.version = version
        self.account = account
        self.phone = phone
    }

    public static let start = OptOutCursor(version: 0, account: "", phone: "")
}

/// The suppression lists as this node last read them (every half second, and at once after this node's own
/// changes): the accept path asks it, in memory, whether a phone may receive an account's message. Changes come
/// only from the store, in its order (`apply(read:)`): a change this node made, applied by itself after the watch
/// had read a later one from another node (a STOP here, then a START there), would undo the later one for good.
public final class OptOutBoard: Sendable {
    private struct State {
        var phones: [String: Set<String>] = [:]
        var appliesTo: Set<MessageType> = [.mkt]
        var accountAppliesTo: [String: Set<MessageType>] = [:]
        /// The last change read from the store.
        var read = OptOutCursor.start
    }

    private let state = Mutex(State())
    /// Phones listed, readable without the lock: most sends find none and ask nothing more.
    private let listed = Atomic<Int>(0)

    public init() {}

    /// `optOut.appliesTo`, and accounts' own; OTP is never refused whatever they say.
    public func configure(appliesTo: Set<MessageType>, accounts: [String: Set<MessageType>]) {
        state.withLock {
            $0.appliesTo = appliesTo
            $0.accountAppliesTo = accounts
        }
    }

    /// One change, outside the store's order (tests, and lists no store keeps).
    public func apply(account: String, phone: String, optedOut: Bool) {
        state.withLock { set(&$0, account: account, phone: phone, optedOut: optedOut) }
    }

    /// Changes read from the store after `read`, in its order. Two readers may race (the watch, and a node's own
    /// change read at once): a change of a version older than the last applied was read already and is skipped.
    /// Within one version (one transaction) each phone changes once, so reading one again changes nothing.
    public func apply(read changes: [(cursor: OptOutCursor, optedOut: Bool)]) {
        state.withLock { s in
            for (c, optedOut) in changes where c.version >= s.read.version {
                set(&s, account: c.account, phone: c.phone, optedOut: optedOut)
                s.read = c
            }
        }
    }

    /// Where the next read of the store's changes starts.
    public var read: OptOutCursor { state.withLock { $0.read } }

    /// Every list at once (a reload from the store), as of the change `read`.
    public func replace(_ phones: [String: Set<String>], read: OptOutCursor = .start) {
        state.withLock {
            $0.phones = phones.filter { !$0.value.isEmpty }
            $0.read = read
            listed.store($0.phones.values.reduce(0) { $0 + $1.count }, ordering: .relaxed)
        }
    }

    private func set(_ s: inout State, account: String, phone: String, optedOut: Bool) {
        if optedOut {
            if s.phones[account, default: []].insert(phone).inserted { listed.add(1, ordering: .relaxed) }
        } else {
            if s.phones[account]?.remove(phone) != nil { listed.subtract(1, ordering: .relaxed) }
            if s.phones[account]?.isEmpty == true { s.phones[account] = nil }
        }
    }

    public func contains(account: String, phone: String) -> Bool {
        state.withLock { $0.phones[account]?.contains(phone) ?? false }
    }

    public var count: Int { listed.load(ordering: .relaxed) }

    /// `refusal(account:phone:type:)` for a parsed number; nothing is built while no phone is listed.
    public func refusal(account: String, number: PhoneNumber, type: MessageType) -> ResponseCode? {
        guard type != .otp, listed.load(ordering: .relaxed) > 0 else { return nil }
        return refusal(account: account, phone: number.digits, type: type)
    }

    /// The refusal of a message of `type` from `account` to `phone` (digits, as stored), or nil when it may go.
    public func refusal(account: String, phone: String, type: MessageType) -> ResponseCode? {
        guard type != .otp else { return nil }
        let refused = state.withLock { s -> Bool in
            guard let phones = s.phones[account], (s.accountAppliesTo[account] ?? s.appliesTo).contains(type) else {
                return false
            }
            return phones.contains(phone)
        }
        guard refused else { return nil }
        return ResponseCode.blackKeyControlLimit.with(
            "\(phone) opted out of this account's \(type.rawValue) messages (it replied with an opt-out keyword, or "
                + "was put on the suppression list); petrel optout remove takes it off."
        )
    }
}
