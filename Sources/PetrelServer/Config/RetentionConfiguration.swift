public import PetrelCore

/// `retention:`: how long what is finished stays in the store, for every account and per account.
public struct RetentionConfiguration: Sendable, Equatable {
    public var defaults = Rules()
    /// Accounts with a `retention:` block of their own.
    public var accounts: [String: Rules] = [:]
    /// How often a node runs a purge round.
    public var everyMs: Int64 = 60_000
    /// Rows per transaction.
    public var batch = 200

    /// How long one account's finished data is kept, in milliseconds.
    public struct Rules: Sendable, Equatable {
        public static let thirtyDaysMs: Int64 = 30 * 86_400_000
        public var messagesMs = thirtyDaysMs
        /// Texts of final messages older than this are emptied; at most `messagesMs`.
        public var textsMs = thirtyDaysMs
        /// Types whose texts are emptied as soon as their message is final.
        public var redactOnFinal: [MessageType] = []
        public var sandboxInboxMs = thirtyDaysMs
        public var campaignsMs = thirtyDaysMs

        public init() {}
    }

    public init() {}

    public func rules(for account: String) -> Rules { accounts[account] ?? defaults }

    /// The longest a duration may be (100 years): far beyond any retention, and far from overflowing milliseconds.
    static let maxDays: Int64 = 36_500

    /// `45s`, `2m`, `12h`, `30d`: greater than 0, at most `maxDays` days.
    public static func parseDuration(_ text: String) -> Int64? {
        guard let unit = text.last, let n = Int64(text.dropLast()), n > 0 else { return nil }
        let ms: Int64
        switch unit {
        case "s": ms = 1000
        case "m": ms = 60_000
        case "h": ms = 3_600_000
        case "d": ms = 86_400_000
        default: return nil
        }
        guard n <= maxDays * 86_400_000 / ms else { return nil }
        return n * ms
    }

    static func read(_ root: ConfigNode, accounts: [(name: String, node: ConfigNode)]) throws -> RetentionConfiguration
    {
        var c = RetentionConfiguration()
        let node = try root.child("retention")
        c.defaults = try readRules(node, base: Rules(), topLevel: true)
        if let every = try duration(node, "every") { c.everyMs = every }
        c.batch = try node.int("batch", default: c.batch, range: 1...100_000)
        for (name, account) in accounts where account.has("retention") {
            c.accounts[name] = try readRules(try account.child("retention"), base: c.defaults, topLevel: false)
        }
        return c
    }

    /// Keys left out take `base`'s values (the top level's, for an account), except that `texts`, `sandboxInbox`
    /// and `campaigns` left out of the top level follow its `messages`, and `texts` is never kept longer than
    /// `messages`.
    private static func readRules(_ node: ConfigNode, base: Rules, topLevel: Bool) throws -> Rules {
        var r = base
        if let messages = try duration(node, "messages") {
            r.messagesMs = messages
            if topLevel {
                (r.textsMs, r.sandboxInboxMs, r.campaignsMs) = (messages, messages, messages)
            }
        }
        r.textsMs = min(r.textsMs, r.messagesMs)
        if let texts = try duration(node, "texts") {
            guard texts <= r.messagesMs else {
                throw ConfigNode.Failure(description: "\(node.key("texts")) must not be longer than messages")
            }
            r.textsMs = texts
        }
        if let sandbox = try duration(node, "sandboxInbox") { r.sandboxInboxMs = sandbox }
        if let campaigns = try duration(node, "campaigns") { r.campaignsMs = campaigns }
        if node.has("redactOnFinal") {
            r.redactOnFinal = try node.strings("redactOnFinal").map { name in
                guard let type = MessageType(parameter: name) else {
                    throw ConfigNode.Failure(
                        description: "\(node.key("redactOnFinal")) lists message Types (OTP, NOTIFY, MKT), got \(name)"
                    )
                }
                return type
            }
        }
        return r
    }

    private static func duration(_ node: ConfigNode, _ key: String) throws -> Int64? {
        guard let text = try node.string(key) else { return nil }
        guard let ms = parseDuration(text) else {
            throw ConfigNode.Failure(
                description: "\(node.key(key)) must be a duration like 45s, 2m, 12h or 30d (above 0, at most "
                    + "\(maxDays)d), got \(text)"
            )
        }
        return ms
    }
}
