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

/// The suppression lists as this node last read them (every half second, and at once for the opt-outs its own
/// inbound messages made): the accept path asks it, in memory, whether a phone may receive an account's message.
public final class OptOutBoard: Sendable {
    private struct State {
        var phones: [String: Set<String>] = [:]
        var appliesTo: Set<MessageType> = [.mkt]
        var accountAppliesTo: [String: Set<MessageType>] = [:]
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

    public func apply(account: String, phone: String, optedOut: Bool) {
        state.withLock {
            if optedOut {
                if $0.phones[account, default: []].insert(phone).inserted { listed.add(1, ordering: .relaxed) }
            } else {
                if $0.phones[account]?.remove(phone) != nil { listed.subtract(1, ordering: .relaxed) }
                if $0.phones[account]?.isEmpty == true { $0.phones[account] = nil }
            }
        }
    }

    /// Every list at once (a reload from the store).
    public func replace(_ phones: [String: Set<String>]) {
        state.withLock {
            $0.phones = phones.filter { !$0.value.isEmpty }
            listed.store($0.phones.values.reduce(0) { $0 + $1.count }, ordering: .relaxed)
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
