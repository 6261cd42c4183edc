/// A calendar UTC window of `limits.caps`: counts start again at the top of each hour, at midnight UTC and on the
/// first of each month (as budgets are read in Alibaba's console and by operators).
public enum CapWindow: String, Sendable, CaseIterable, Hashable {
    case hour, day, month

    /// The period holding `ms`: its first millisecond and the first millisecond after it.
    public func period(_ ms: Int64) -> (start: Int64, end: Int64) {
        let hourMs: Int64 = 3_600_000
        let dayMs: Int64 = 86_400_000
        switch self {
        case .hour:
            let start = floorDiv(ms, hourMs) * hourMs
            return (start, start + hourMs)
        case .day:
            let start = floorDiv(ms, dayMs) * dayMs
            return (start, start + dayMs)
        case .month:
            let (y, m, _) = Self.civil(floorDiv(ms, dayMs))
            let next = m == 12 ? (y + 1, 1) : (y, m + 1)
            return (Self.days(y, m, 1) * dayMs, Self.days(next.0, next.1, 1) * dayMs)
        }
    }

    private func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : -((-a + b - 1) / b) }

    /// Days since 1970-01-01 to year, month, day (proleptic Gregorian; H. Hinnant's civil_from_days).
    static func civil(_ z: Int64) -> (Int64, Int64, Int64) {
        let z = z + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    /// Year, month, day to days since 1970-01-01 (days_from_civil).
    static func days(_ y: Int64, _ m: Int64, _ d: Int64) -> Int64 {
        let y = m <= 2 ? y - 1 : y
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}

/// One entry of `limits.caps`: the most parts (segments) an account, or an account in one country, may have
/// accepted per calendar UTC hour, day and month.
public struct SendCap: Sendable, Equatable {
    public var account: String
    /// ISO 3166 alpha-2; nil: every country together.
    public var country: String?
    public var hour: Int?
    public var day: Int?
    public var month: Int?
    /// Share of a cap (0 < warnAt < 1) past which a warning is logged and shown on /metrics.
    public var warnAt: Double?

    public init(
        account: String,
        country: String? = nil,
        hour: Int? = nil,
        day: Int? = nil,
        month: Int? = nil,
        warnAt: Double? = nil
    ) {
        self.account = account
        self.country = country
        self.hour = hour
        self.day = day
        self.month = month
        self.warnAt = warnAt
    }

    public func limit(_ window: CapWindow) -> Int? {
        switch window {
        case .hour: return hour
        case .day: return day
        case .month: return month
        }
    }
}

/// One counter of the store: the parts an account (in a country, or "" for all) had accepted in one period.
public struct CapKey: Sendable, Hashable {
    public var country: String
    public var window: CapWindow
    public var start: Int64

    public init(country: String, window: CapWindow, start: Int64) {
        self.country = country
        self.window = window
        self.start = start
    }
}

/// A counter as `petrel limits show` and /metrics read it.
public struct CapCounter: Sendable, Equatable {
    public var account: String
    public var key: CapKey
    public var end: Int64
    public var parts: Int

    public init(account: String, key: CapKey, end: Int64, parts: Int) {
        self.account = account
        self.key = key
        self.end = end
        self.parts = parts
    }
}

/// The caps of one account, and the decision for one message.
public struct SendCaps: Sendable, Equatable {
    public var caps: [SendCap]

    public init(_ caps: [SendCap] = []) { self.caps = caps }

    public var isEmpty: Bool { caps.isEmpty }

    /// The counters a message to `to` at `atMs` is checked against (and adds its parts to), with their limits.
    public func counters(to: String, atMs: Int64) -> [(key: CapKey, end: Int64, limit: Int)] {
        guard !caps.isEmpty else { return [] }
        return counters(region: (try? PhoneNumber.parse(to).get())?.region ?? "", atMs: atMs)
    }

    /// `counters(to:atMs:)` for a number whose country (`region`, "" when unknown) is known already.
    public func counters(region: String, atMs: Int64) -> [(key: CapKey, end: Int64, limit: Int)] {
        var out: [(key: CapKey, end: Int64, limit: Int)] = []
        for cap in caps where cap.country == nil || cap.country == region {
            for window in CapWindow.allCases {
                guard let limit = cap.limit(window) else { continue }
                let (start, end) = window.period(atMs)
                out.append((CapKey(country: cap.country ?? "", window: window, start: start), end, limit))
            }
        }
        return out
    }

    /// The refusal of `parts` more parts to `to` at `atMs`, given the parts `used` per counter; nil when it may go.
    public func refusal(to: String, parts: Int, atMs: Int64, used: [CapKey: Int]) -> ResponseCode? {
        Self.refusal(counters(to: to, atMs: atMs), parts: parts, used: used)
    }

    /// The refusal of `parts` more parts against `counters` (what `counters(to:atMs:)` gave for the message).
    public static func refusal(
        _ counters: [(key: CapKey, end: Int64, limit: Int)],
        parts: Int,
        used: [CapKey: Int]
    ) -> ResponseCode? {
        for c in counters {
            let have = used[c.key, default: 0]
            guard have + parts > c.limit else { continue }
            let scope = c.key.country.isEmpty ? "This account" : "This account's sends to \(c.key.country)"
            return ResponseCode.outOfService.with(
                "\(scope) reached its cap of \(c.limit) parts per calendar \(c.key.window.rawValue) (UTC) in "
                    + "limits.caps (\(have) used, this message has \(parts)); sending resumes when the "
                    + "\(c.key.window.rawValue) rolls over."
            )
        }
        return nil
    }
}
