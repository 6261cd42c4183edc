import CoreMetrics
import Logging
import PetrelCore
import PetrelStore
import ServiceLifecycle

/// `limits.caps` on /metrics and in the log: every few seconds it reads the counters of the periods under way and
/// sets `petrel_cap_used_ratio` and `petrel_cap_reached` per account, country ("all" for every country) and window;
/// crossing `warnAt`, and reaching a cap, log one warning per counter and period on each node (not one per message).
/// The accept path does no work for it.
struct CapWatch: Service {
    let store: any SendLimitLog
    /// Read each round: a reload (SIGHUP) may change them.
    let caps: @Sendable () -> [SendCap]
    let logger: Logger
    let clock: @Sendable () -> Int64
    var intervalMs: Int64 = 5000

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var state = CapWatchState(caps: caps())
            while !Task.isCancelled {
                state.caps = caps()
                do {
                    let now = clock()
                    // Without caps there is nothing to read (only the gauges of caps a reload took away to clear).
                    let counters = state.caps.isEmpty ? [] : try await store.capCounters(account: nil, nowMs: now)
                    for line in state.sample(counters, nowMs: now) {
                        line.record()
                        if let warning = line.warning { logger.warning("\(warning)") }
                    }
                } catch {
                    logger.storeFailure("cannot read the cap counters", error)
                }
                try? await Task.sleep(for: .milliseconds(intervalMs))
            }
        }
    }
}

/// What `CapWatch` decides from the counters: the gauges and which warnings are new (kept apart to be tested).
struct CapWatchState {
    var caps: [SendCap]
    /// Counters already warned about: "account country window start level".
    private(set) var warned = Set<String>()
    /// The gauges set last round: one a reload took away is set to 0 once.
    private(set) var shown = Set<Gauge>()

    struct Gauge: Hashable {
        var account: String
        var country: String
        var window: CapWindow
    }

    init(caps: [SendCap]) { self.caps = caps }

    struct Line {
        var account: String
        var country: String
        var window: CapWindow
        var used: Int
        var limit: Int
        var warning: String?

        var ratio: Double { Double(used) / Double(limit) }

        func record() {
            let dimensions = [("account", account), ("country", country), ("window", window.rawValue)]
            CoreMetrics.Gauge(label: "petrel_cap_used_ratio", dimensions: dimensions).record(ratio)
            CoreMetrics.Gauge(label: "petrel_cap_reached", dimensions: dimensions).record(used >= limit ? 1 : 0)
        }
    }

    mutating func sample(_ counters: [CapCounter], nowMs: Int64) -> [Line] {
        var used: [String: Int] = [:]
        for c in counters { used["\(c.account) \(c.key.country) \(c.key.window.rawValue) \(c.key.start)"] = c.parts }
        var lines: [Line] = []
        for cap in caps {
            for window in CapWindow.allCases {
                guard let limit = cap.limit(window) else { continue }
                let start = window.period(nowMs).start
                let key = "\(cap.account) \(cap.country ?? "") \(window.rawValue) \(start)"
                let parts = used[key, default: 0]
                let scope = cap.country.map { "account \(cap.account) in \($0)" } ?? "account \(cap.account)"
                var line = Line(
                    account: cap.account,
                    country: cap.country ?? "all",
                    window: window,
                    used: parts,
                    limit: limit
                )
                if parts >= limit {
                    warned.insert(key + " warn")
                    if warned.insert(key + " reached").inserted {
                        line.warning =
                            "limits.caps: \(scope) reached its cap of \(limit) parts this \(window.rawValue) (UTC); "
                            + "its sends are refused with OUT_OF_SERVICE until the \(window.rawValue) rolls over"
                    }
                } else if let warnAt = cap.warnAt, Double(parts) >= warnAt * Double(limit),
                    warned.insert(key + " warn").inserted
                {
                    line.warning =
                        "limits.caps: \(scope) used \(parts) of its \(limit) parts this \(window.rawValue) (UTC), "
                        + "past warnAt \(warnAt)"
                }
                lines.append(line)
            }
        }
        let now = Set(lines.map { Gauge(account: $0.account, country: $0.country, window: $0.window) })
        for gone in shown.subtracting(now) {
            lines.append(Line(account: gone.account, country: gone.country, window: gone.window, used: 0, limit: 1))
        }
        shown = now
        // Forget the periods that ended (the set stays as small as the caps).
        warned = warned.filter { entry in
            caps.contains { cap in
                CapWindow.allCases.contains { w in
                    entry.hasPrefix("\(cap.account) \(cap.country ?? "") \(w.rawValue) \(w.period(nowMs).start) ")
                }
            }
        }
        return lines
    }
}
