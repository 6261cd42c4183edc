/// The `limits:` of one account, resolved from the config (the account's own keys over the top-level ones).
public struct SendLimits: Sendable, Equatable {
    public var perNumber: NumberLimits
    /// nil: every country.
    public var countries: CountryRule?
    /// `limits.caps` entries for this account.
    public var caps: SendCaps
    /// `limits.pumpingGuard` (the account's own or the top-level one).
    public var pumpingGuard: PumpingGuard?

    public init(
        perNumber: NumberLimits = NumberLimits(),
        countries: CountryRule? = nil,
        caps: SendCaps = SendCaps(),
        pumpingGuard: PumpingGuard? = nil
    ) {
        self.perNumber = perNumber
        self.countries = countries
        self.caps = caps
        self.pumpingGuard = pumpingGuard
    }

    /// Whether the store must check (and count) a message of `type` to `to` as it commits it.
    public func checks(to: String, type: MessageType) -> Bool {
        !caps.isEmpty || pumpingGuard?.type == type || perNumber.counts(to: to, type: type)
    }

    /// The refusal of a message of `type` to `number` from `account` while `limits.pumpingGuard` halts it (asked
    /// in memory, of the halts this node last read); nil when it may go or no guard covers `type`.
    public func haltRefusal(
        account: String,
        _ number: PhoneNumber,
        type: MessageType,
        halts: PumpingHaltBoard
    ) -> ResponseCode? {
        guard pumpingGuard?.type == type else { return nil }
        return halts.halt(account: account, country: number.region, type: type)?.refusal
    }

    /// The refusal for a recipient in `region` (ISO 3166 alpha-2), or nil when its country may receive.
    public func countryRefusal(_ number: PhoneNumber) -> ResponseCode? {
        guard let countries, !countries.permits(number.region) else { return nil }
        return Self.countryRefusal(number)
    }

    static func countryRefusal(_ number: PhoneNumber) -> ResponseCode {
        let name = number.region.isEmpty ? "+\(number.callingCode)" : number.region
        return ResponseCode.notSupportedCountry.with(
            "This account may not send to \(number.digits): its country (\(name)) is not allowed by limits.countries."
        )
    }
}

/// `countryRefusal` and `haltRefusal` for the recipients of one request, with what they need taken out of the
/// limits once: asked per recipient of a batch, `limits?.countryRefusal(...)` copied the whole `SendLimits` each
/// time (its sets and dictionaries retained and released), which cost more than the checks themselves.
public struct RecipientScreen: Sendable {
    let countries: CountryRule?
    /// The pumping guard covers the request's Type.
    let halting: Bool
    let type: MessageType

    /// nil when `limits` is nil or checks neither countries nor halts of `type`.
    public init?(_ limits: SendLimits?, type: MessageType) {
        guard let limits, limits.countries != nil || limits.pumpingGuard?.type == type else { return nil }
        countries = limits.countries
        halting = limits.pumpingGuard?.type == type
        self.type = type
    }

    public func refusal(account: String, _ number: PhoneNumber, halts: PumpingHaltBoard) -> ResponseCode? {
        if let countries, !countries.permits(number.region) { return SendLimits.countryRefusal(number) }
        guard halting else { return nil }
        return halts.halt(account: account, country: number.region, type: type)?.refusal
    }
}

/// `limits.countries`: an allow-list or a deny-list of ISO 3166 alpha-2 codes.
public enum CountryRule: Sendable, Equatable {
    case allow(Set<String>)
    case deny(Set<String>)

    public func permits(_ region: String) -> Bool {
        switch self {
        case .allow(let set): return set.holds(region)
        case .deny(let set): return !set.holds(region)
        }
    }
}

/// Most messages one number may receive in each rolling window; nil: no limit for that window.
public struct WindowCounts: Sendable, Equatable {
    public var minute: Int?
    public var hour: Int?
    public var day: Int?

    public init(minute: Int? = nil, hour: Int? = nil, day: Int? = nil) {
        self.minute = minute
        self.hour = hour
        self.day = day
    }

}

/// One accepted message that counts against a number's limits.
public struct LimitedSend: Sendable, Equatable {
    public var type: MessageType
    public var atMs: Int64

    public init(type: MessageType, atMs: Int64) {
        self.type = type
        self.atMs = atMs
    }
}

/// `limits.perNumber` and `limits.allowNumbers`: per account and recipient, counted in rolling windows (the last
/// 60 s, 3600 s, 86400 s before the accept) over the messages accepted.
public struct NumberLimits: Sendable, Equatable {
    public var byType: [MessageType: WindowCounts]
    /// The `"*"` entry: every message to the number, whatever its Type.
    public var anyType: WindowCounts?
    public var allowNumbers: Set<String>

    /// The longest window: older sends never count and may be forgotten.
    public static let horizonMs: Int64 = 86_400_000

    public init(byType: [MessageType: WindowCounts] = [:], anyType: WindowCounts? = nil, allowNumbers: Set<String> = [])
    {
        self.byType = byType
        self.anyType = anyType
        self.allowNumbers = allowNumbers
    }

    public var isEmpty: Bool { byType.isEmpty && anyType == nil }

    /// Whether a message of `type` to `to` is checked and, once accepted, counted.
    public func counts(to: String, type: MessageType) -> Bool {
        (anyType != nil || byType[type] != nil) && !allowNumbers.holds(to)
    }

    /// The refusal of one more message of `type` to `to` at `nowMs`, given the sends `recent` already counted for
    /// that number (any order, any age); nil when it may go. Asked of every recipient with sends in the last day:
    /// counted in one pass, with no array or text made unless it refuses.
    public func refusal(to: String, type: MessageType, recent: [LimitedSend], nowMs: Int64) -> ResponseCode? {
        guard counts(to: to, type: type) else { return nil }
        if let typed = byType[type],
            let code = Self.refusal(typed, to: to, what: "\(type.rawValue) messages", recent, only: type, nowMs)
        {
            return code
        }
        if let any = anyType, let code = Self.refusal(any, to: to, what: "messages", recent, only: nil, nowMs) {
            return code
        }
        return nil
    }

    private static func refusal(
        _ limits: WindowCounts,
        to: String,
        what: @autoclosure () -> String,
        _ recent: [LimitedSend],
        only type: MessageType?,
        _ nowMs: Int64
    ) -> ResponseCode? {
        // A send stamped later than this one (another node's clock) counts too: the limit holds whatever the order.
        var counted = (minute: 0, hour: 0, day: 0)
        for send in recent where type == nil || send.type == type {
            if send.atMs > nowMs - 60_000 { counted.minute += 1 }
            if send.atMs > nowMs - 3_600_000 { counted.hour += 1 }
            if send.atMs > nowMs - 86_400_000 { counted.day += 1 }
        }
        let over: (ResponseCode, String, Int, Int)
        if let limit = limits.minute, counted.minute >= limit {
            over = (.businessLimitMinute, "minute", counted.minute, limit)
        } else if let limit = limits.hour, counted.hour >= limit {
            over = (.businessLimitHour, "hour", counted.hour, limit)
        } else if let limit = limits.day, counted.day >= limit {
            over = (.businessLimitDay, "day", counted.day, limit)
        } else {
            return nil
        }
        return over.0.with(
            "\(to) already received \(over.2) \(what()) from this account in the last \(over.1); the limit is \(over.3)."
        )
    }
}

extension Set<String> {
    /// `contains`, asked of every recipient under limits: a few entries (the usual allow-list of test phones, a
    /// handful of countries) are compared in turn, which costs less than hashing the text (SipHash).
    @inlinable func holds(_ text: String) -> Bool {
        if count > 8 { return contains(text) }
        for s in self where s == text { return true }
        return false
    }
}
