/// How far one cap's counter is in the period under way: what the console's Limits page and banner show.
public struct CapUse: Sendable, Equatable {
    public enum Level: Sendable, Equatable, Comparable {
        case ok
        /// Past the cap's `warnAt` share.
        case warning
        /// At (or over) the cap: the account's sends (to the country) are refused until `end`.
        case reached
    }

    public var account: String
    /// nil: every country together.
    public var country: String?
    public var window: CapWindow
    public var used: Int
    public var limit: Int
    public var warnAt: Double?
    /// The first millisecond of the next period, when the counter starts again.
    public var end: Int64

    public init(
        account: String,
        country: String?,
        window: CapWindow,
        used: Int,
        limit: Int,
        warnAt: Double?,
        end: Int64
    ) {
        self.account = account
        self.country = country
        self.window = window
        self.used = used
        self.limit = limit
        self.warnAt = warnAt
        self.end = end
    }

    public var level: Level {
        if used >= limit { return .reached }
        if let warnAt, Double(used) >= warnAt * Double(limit) { return .warning }
        return .ok
    }

    /// `used / limit`, at most 1.
    public var share: Double { min(1, Double(used) / Double(max(limit, 1))) }

    /// Every window of every cap in `caps`, with the parts `counters` (the store's) counted in its current period
    /// at `nowMs` (0 when the store has no counter for it yet), in the order of `caps` and hour, day, month.
    public static func of(_ caps: [SendCap], counters: [CapCounter], nowMs: Int64) -> [CapUse] {
        var used: [String: Int] = [:]
        for c in counters { used["\(c.account) \(c.key.country) \(c.key.window.rawValue) \(c.key.start)"] = c.parts }
        var out: [CapUse] = []
        for cap in caps {
            for window in CapWindow.allCases {
                guard let limit = cap.limit(window) else { continue }
                let (start, end) = window.period(nowMs)
                let parts = used["\(cap.account) \(cap.country ?? "") \(window.rawValue) \(start)", default: 0]
                out.append(
                    CapUse(
                        account: cap.account,
                        country: cap.country,
                        window: window,
                        used: parts,
                        limit: limit,
                        warnAt: cap.warnAt,
                        end: end
                    )
                )
            }
        }
        return out
    }
}
