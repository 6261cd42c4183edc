public import PetrelCore
import PetrelDelivery
import PetrelStore

/// `optOut:` (top level) and `accounts[].optOut`: keywords, which types a suppressed phone is refused, the bound on
/// the lists, and the confirmation replies.
public struct OptOutConfiguration: Sendable, Equatable {
    /// `keywords` and `startKeywords`; nil when both lists are empty (replies change no list).
    public var keywords: OptOutKeywords? = OptOutKeywords()
    /// Types refused to a suppressed phone: MKT always, NOTIFY when listed; OTP never.
    public var appliesTo: Set<MessageType> = [.mkt]
    public var maxPhones = 1_000_000
    public var replies = Replies()
    /// At most this many confirmations to one phone of an account in a rolling day (`repliesPerPhoneDay`), and for
    /// one account in a rolling hour (`repliesPerAccountHour`): see `ReplyBudget`.
    public var repliesPerPhoneDay = 3
    public var repliesPerAccountHour = 1000
    public var accounts: [String: Account] = [:]

    /// Sent back, as an ordinary NOTIFY message of the account, when a phone opts out (`reply`) or in
    /// (`startReply`); empty: nothing is sent. From `replyFrom`, else the number the customer wrote to.
    public struct Replies: Sendable, Equatable {
        public var reply = ""
        public var startReply = ""
        public var replyFrom = ""
    }

    public struct Account: Sendable, Equatable {
        public var appliesTo: Set<MessageType>?
        public var replies: Replies
    }

    public init() {}

    public func replies(account: String) -> Replies { accounts[account]?.replies ?? replies }
    public var accountsAppliesTo: [String: Set<MessageType>] { accounts.compactMapValues(\.appliesTo) }
}

extension ServerConfiguration {
    /// `optOut`, and the keywords and bound the inbound store applies.
    mutating func setOptOut(_ o: OptOutConfiguration) {
        optOut = o
        inbound.rules.optOut = o.keywords
        inbound.rules.maxOptOutPhones = o.maxPhones
    }

    static func readOptOut(
        _ root: ConfigNode,
        accounts: [(name: String, node: ConfigNode)]
    ) throws
        -> OptOutConfiguration
    {
        var c = OptOutConfiguration()
        let node = try root.child("optOut")
        let stop = try keywords(node, "keywords", default: OptOutKeywords.defaultStop)
        let start = try keywords(node, "startKeywords", default: OptOutKeywords.defaultStart)
        if let both = stop.first(where: start.contains) {
            throw ConfigNode.Failure(
                description: "\(node.key("keywords")) and \(node.key("startKeywords")) both have \(both)"
            )
        }
        c.keywords = stop.isEmpty && start.isEmpty ? nil : OptOutKeywords(stop: stop, start: start)
        c.maxPhones = try node.int("maxPhones", default: 1_000_000, range: 1...100_000_000)
        c.appliesTo = try appliesTo(node) ?? [.mkt]
        c.replies = try replies(node, default: OptOutConfiguration.Replies())
        c.repliesPerPhoneDay = try node.int("repliesPerPhoneDay", default: 3, range: 0...1000)
        c.repliesPerAccountHour = try node.int("repliesPerAccountHour", default: 1000, range: 0...10_000_000)
        try notKeywords(c.replies, node, c.keywords)
        for (name, account) in accounts where account.has("optOut") {
            let own = try account.child("optOut")
            c.accounts[name] = OptOutConfiguration.Account(
                appliesTo: try appliesTo(own),
                replies: try replies(own, default: c.replies)
            )
            try notKeywords(c.accounts[name]?.replies ?? c.replies, own, c.keywords)
        }
        return c
    }

    /// A confirmation that is itself a keyword would loop with an auto-responder echoing it: STOP answered
    /// "START" opts the phone in again, answered "STOP", and so on, a message each way per turn.
    private static func notKeywords(
        _ r: OptOutConfiguration.Replies,
        _ node: ConfigNode,
        _ keywords: OptOutKeywords?
    ) throws {
        for (key, text) in [("reply", r.reply), ("startReply", r.startReply)]
        where keywords?.optsOut(text) != nil {
            throw ConfigNode.Failure(
                description:
                    "\(node.key(key)) must not be an opt-out keyword itself (a phone echoing it would opt out or in again, and be answered again), got \"\(text)\""
            )
        }
    }

    private static func keywords(_ node: ConfigNode, _ key: String, default d: Set<String>) throws -> Set<String> {
        guard node.has(key) else { return d }
        let words = try node.strings(key).map { $0.uppercased() }
        for w in words
        where w.isEmpty || w.count > OptOutKeywords.maxLength || w.contains(where: { $0.isWhitespace }) {
            throw ConfigNode.Failure(
                description:
                    "\(node.key(key)) must be words of 1 to \(OptOutKeywords.maxLength) characters without spaces, got \"\(w)\""
            )
        }
        return Set(words)
    }

    private static func appliesTo(_ node: ConfigNode) throws -> Set<MessageType>? {
        guard node.has("appliesTo") else { return nil }
        var types: Set<MessageType> = [.mkt]
        for t in try node.strings("appliesTo") {
            switch MessageType(parameter: t) {
            case .mkt?: types.insert(.mkt)
            case .notify?: types.insert(.notify)
            case .otp?:
                throw ConfigNode.Failure(
                    description: "\(node.key("appliesTo")) cannot have OTP: a one-time code always goes through"
                )
            case nil:
                throw ConfigNode.Failure(description: "\(node.key("appliesTo")) takes MKT and NOTIFY, got \(t)")
            }
        }
        return types
    }

    private static func replies(
        _ node: ConfigNode,
        default d: OptOutConfiguration.Replies
    ) throws
        -> OptOutConfiguration.Replies
    {
        var r = d
        r.reply = try node.string("reply") ?? d.reply
        r.startReply = try node.string("startReply") ?? d.startReply
        r.replyFrom = try node.string("replyFrom") ?? d.replyFrom
        for (key, text) in [("reply", r.reply), ("startReply", r.startReply)] where text.count > 1000 {
            throw ConfigNode.Failure(description: "\(node.key(key)) must be at most 1000 characters")
        }
        if !r.replyFrom.isEmpty, !SenderID.isValid(r.replyFrom) {
            throw ConfigNode.Failure(
                description:
                    "\(node.key("replyFrom")) must be a sender ID (letters and digits: at most 11 with a letter, 15 digits), got \(r.replyFrom)"
            )
        }
        return r
    }
}
