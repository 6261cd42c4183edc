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
        guard !numbers.isEmpty || countries != nil else { return nil }
        return SendLimits(perNumber: numbers, countries: countries)
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

    static func readLimits(_ node: ConfigNode) throws -> LimitsSetting {
        var s = LimitsSetting()
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
