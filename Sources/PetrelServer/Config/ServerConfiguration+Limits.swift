import PetrelCore

extension ServerConfiguration {
    /// `limits:` as written, at the top level or under an account (where each key it sets replaces the top-level
    /// one; `perNumber` Type by Type).
    public struct LimitsSetting: Sendable, Equatable {
        /// By Type name (`OTP`, `NOTIFY`, `MKT`) or `*`.
        public var perNumber: [String: WindowCounts] = [:]
        /// Normalised to digits; nil when not set.
        public var allowNumbers: Set<String>?
        public var countries: CountryRule?
        /// `limits.caps` (top level only: each entry names its account).
        public var caps: [SendCap] = []
        public var pumpingGuard: PumpingGuard?
        /// `limits.pumpingGuard.every` (top level only): how often the guard sums its counters.
        public var pumpingGuardEveryMs: Int64 = 10_000
        /// `limits.trackedSends` (top level only): most per-number sends the store keeps in memory; nil: its
        /// default.
        public var trackedSends: Int?

        public init() {}
    }

    /// The limits an account's sends are held to; nil when none (the accept path then does nothing more).
    public func sendLimits(account: String) -> SendLimits? {
        let own = accountLimits[account] ?? LimitsSetting()
        let perNumber = limits.perNumber.merging(own.perNumber) { _, mine in mine }
        var numbers = NumberLimits(allowNumbers: own.allowNumbers ?? limits.allowNumbers ?? [])
        for (type, counts) in perNumber {
            if type == "*" {
                numbers.anyType = counts
            } else if let t = MessageType(parameter: type) {
                numbers.byType[t] = counts
            }
        }
        let countries = own.countries ?? limits.countries
        let caps = SendCaps(limits.caps.filter { $0.account == account })
        let pumping = own.pumpingGuard ?? limits.pumpingGuard
        guard !numbers.isEmpty || countries != nil || !caps.isEmpty || pumping != nil else { return nil }
        return SendLimits(perNumber: numbers, countries: countries, caps: caps, pumpingGuard: pumping)
    }

    /// `sendLimits(account:)` for every account, resolved once (it is asked on every send).
    public func sendLimitsLookup() -> @Sendable (String) -> SendLimits? {
        let byAccount = Dictionary(accounts.map { ($0.name, sendLimits(account: $0.name)) }) { a, _ in a }
        let others = sendLimits(account: "")
        return { account in
            if let own = byAccount[account] { return own }
            return others
        }
    }

    /// `limits.caps`: a list of `{account, country?, hour?, day?, month?, warnAt?}`; the account must be one of
    /// `accounts:`.
    static func readCaps(_ node: ConfigNode, accounts: Set<String>) throws -> [SendCap] {
        var caps: [SendCap] = []
        var seen = Set<String>()
        for entry in try node.list("caps") {
            guard let account = try entry.string("account"), accounts.contains(account) else {
                throw ConfigNode.Failure(
                    description:
                        "\(entry.key("account")) must name an account listed under accounts: (\(accounts.sorted().joined(separator: ", ")))"
                )
            }
            var cap = SendCap(account: account)
            if let raw = try entry.string("country") {
                let code = raw.uppercased()
                guard code.count == 2, NumberingPlan.shared.region(code) != nil else {
                    throw ConfigNode.Failure(
                        description:
                            "\(entry.key("country")): \(raw) is not an ISO 3166 alpha-2 country code Petrel knows"
                    )
                }
                cap.country = code
            }
            let range = 1...1_000_000_000
            if entry.has("hour") { cap.hour = try entry.int("hour", default: 0, range: range) }
            if entry.has("day") { cap.day = try entry.int("day", default: 0, range: range) }
            if entry.has("month") { cap.month = try entry.int("month", default: 0, range: range) }
            guard cap.hour != nil || cap.day != nil || cap.month != nil else {
                throw ConfigNode.Failure(description: "\(entry.path) must set hour, day or month")
            }
            if entry.has("warnAt") {
                let warnAt = try entry.double("warnAt", default: 0, range: 0...1)
                guard warnAt > 0, warnAt < 1 else {
                    throw ConfigNode.Failure(description: "\(entry.key("warnAt")) must be between 0 and 1 (exclusive)")
                }
                cap.warnAt = warnAt
            }
            guard seen.insert("\(account) \(cap.country ?? "")").inserted else {
                throw ConfigNode.Failure(
                    description: "\(entry.path): a second cap for account \(account) and the same country; merge them"
                )
            }
            caps.append(cap)
        }
        return caps
    }

    /// The distinct guards in force (the top level's and the accounts' own), for the watch that sums them.
    public var pumpingGuards: [PumpingGuard] {
        Array(Set(([limits.pumpingGuard] + accountLimits.values.map(\.pumpingGuard)).compactMap { $0 }))
    }

    /// `limits.pumpingGuard: {type, window, minSent, minConversionRate}` (each optional: OTP, 1h, 200, 0.2), and
    /// at the top level `every` (how often the watch sums the counters, 10s).
    static func readPumpingGuard(_ parent: ConfigNode, into s: inout LimitsSetting, topLevel: Bool) throws {
        guard parent.has("pumpingGuard") else { return }
        let node = try parent.child("pumpingGuard")
        var g = PumpingGuard()
        if let name = try node.string("type") {
            guard let type = MessageType(parameter: name) else {
                throw ConfigNode.Failure(
                    description: "\(node.key("type")): unknown Type \(name); use OTP, NOTIFY or MKT"
                )
            }
            g.type = type
        }
        func duration(_ key: String, max: Int64) throws -> Int64? {
            guard let text = try node.string(key) else { return nil }
            guard let ms = RetentionConfiguration.parseDuration(text), ms <= max else {
                throw ConfigNode.Failure(
                    description: "\(node.key(key)) must be a duration like 30s, 10m or 1h (above 0, at most "
                        + "\(max / 3_600_000 > 0 ? "\(max / 3_600_000)h" : "\(max / 1000)s")), got \(text)"
                )
            }
            return ms
        }
        if let window = try duration("window", max: PumpingGuard.maxWindowMs) { g.windowMs = window }
        g.minSent = try node.int("minSent", default: g.minSent, range: 1...1_000_000_000)
        g.minConversionRate = try node.double("minConversionRate", default: g.minConversionRate, range: 0...1)
        if topLevel, let every = try duration("every", max: 3_600_000) { s.pumpingGuardEveryMs = every }
        s.pumpingGuard = g
    }

    static func readLimits(_ node: ConfigNode, topLevel: Bool = false) throws -> LimitsSetting {
        var s = LimitsSetting()
        try readPumpingGuard(node, into: &s, topLevel: topLevel)
        if topLevel, node.has("trackedSends") {
            s.trackedSends = try node.int("trackedSends", default: 0, range: 0...1_000_000_000)
        }
        let perNumber = try node.child("perNumber")
        for type in perNumber.keys() {
            guard type == "*" || MessageType(parameter: type) != nil else {
                throw ConfigNode.Failure(
                    description:
                        "\(perNumber.key(type)): unknown Type \(type); use OTP, NOTIFY, MKT or \"*\" (any Type)"
                )
            }
            let entry = try perNumber.child(type)
            let range = 1...1_000_000
            var counts = WindowCounts()
            if entry.has("minute") { counts.minute = try entry.int("minute", default: 0, range: range) }
            if entry.has("hour") { counts.hour = try entry.int("hour", default: 0, range: range) }
            if entry.has("day") { counts.day = try entry.int("day", default: 0, range: range) }
            guard counts != WindowCounts() else {
                throw ConfigNode.Failure(description: "\(perNumber.key(type)) must set minute, hour or day")
            }
            let name = type == "*" ? type : type.uppercased()
            s.perNumber[name] = counts
        }
        if node.has("allowNumbers") {
            var numbers = Set<String>()
            for raw in try node.strings("allowNumbers") {
                guard case .success(let number) = PhoneNumber.parse(raw) else {
                    throw ConfigNode.Failure(
                        description:
                            "\(node.key("allowNumbers")): \(raw) is not an international number with its country code"
                    )
                }
                numbers.insert(number.digits)
            }
            s.allowNumbers = numbers
        }
        if node.has("countries") {
            let countries = try node.child("countries")
            let allow = countries.has("allow")
            guard allow != countries.has("deny") else {
                throw ConfigNode.Failure(description: "\(countries.path) must have either allow or deny (not both)")
            }
            let key = allow ? "allow" : "deny"
            var codes = Set<String>()
            for raw in try countries.strings(key) {
                let code = raw.uppercased()
                guard code.count == 2, NumberingPlan.shared.region(code) != nil else {
                    throw ConfigNode.Failure(
                        description:
                            "\(countries.key(key)): \(raw) is not an ISO 3166 alpha-2 country code Petrel knows"
                    )
                }
                codes.insert(code)
            }
            s.countries = allow ? .allow(codes) : .deny(codes)
        }
        return s
    }
}
