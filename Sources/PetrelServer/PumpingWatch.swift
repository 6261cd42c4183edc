import CoreMetrics
import Logging
import PetrelCore
import PetrelStore
import ServiceLifecycle

/// `limits.pumpingGuard` in the background: every second or so it reads the halts in force into this node's board
/// (which the accept path asks, in memory) and `petrel_pumping_halted`; every `everyMs` it sums each guard's
/// counters over its window and halts the pairs below their conversion rate. The store makes a halt once however
/// many nodes decide it at once; the node that made it logs the warning and counts `petrel_pumping_halts_total`.
struct PumpingWatch: Service {
    let store: any PumpingGuardLog
    let board: PumpingHaltBoard
    /// The distinct guards in force, and an account's own (both asked each round: a reload may change them).
    let guards: @Sendable () -> [PumpingGuard]
    let limits: @Sendable (String) -> SendLimits?
    let logger: Logger
    let clock: @Sendable () -> Int64
    var everyMs: Int64 = 10_000
    var refreshMs: Int64 = 1000

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var gauges = PumpingGauges()
            var evaluatedAt: Int64?
            while !Task.isCancelled {
                let now = clock()
                // No guard in force (none configured, or a reload took them away): nothing to read or halt; the
                // board is emptied so a guard added later starts from the store's halts.
                if guards().isEmpty {
                    if !board.all.isEmpty { board.replace([]) }
                    gauges.record([])
                    try? await Task.sleep(for: .milliseconds(refreshMs))
                    continue
                }
                if evaluatedAt.map({ now - $0 >= everyMs }) ?? true {
                    evaluatedAt = now
                    await evaluate(nowMs: now)
                }
                do {
                    let halts = try await store.pumpingHalts(account: nil)
                    board.replace(halts)
                    gauges.record(halts)
                } catch {
                    logger.storeFailure("cannot read the pumping guard's halts", error)
                }
                try? await Task.sleep(for: .milliseconds(refreshMs))
            }
        }
    }

    func evaluate(nowMs: Int64) async {
        for g in guards() {
            do {
                let counts = try await store.pumpingCounts(type: g.type, sinceMs: nowMs - g.windowMs)
                for (halt, countedFrom) in PumpingDecision.halts(counts, guarding: g, nowMs: nowMs, limits: limits)
                where try await store.haltPumping(halt, countedFromMs: countedFrom) {
                    board.add(halt)
                    logger.warning(
                        "\(PumpingDecision.warning(halt, g))",
                        metadata: [
                            "account": "\(halt.account)", "country": "\(halt.country)", "sent": "\(halt.sent)",
                            "converted": "\(halt.converted)", "rate": "\(PumpingHalt.format(halt.rate))",
                        ]
                    )
                    CoreMetrics.Counter(
                        label: "petrel_pumping_halts_total",
                        dimensions: [("account", halt.account), ("country", halt.country)]
                    ).increment()
                }
            } catch {
                logger.storeFailure("cannot evaluate the pumping guard", error)
            }
        }
    }
}

/// What the watch decides from the counts (kept apart to be tested).
enum PumpingDecision {
    /// The halts due among `counts` (summed over `g`'s window) for the accounts `g` guards, each with the lift it
    /// counted from.
    static func halts(
        _ counts: [PumpingCount],
        guarding g: PumpingGuard,
        nowMs: Int64,
        limits: (String) -> SendLimits?
    ) -> [(PumpingHalt, Int64?)] {
        counts.compactMap { c in
            // An account with a guard of its own is summed over its own window (by its own entry of `guards`).
            guard c.type == g.type, limits(c.account)?.pumpingGuard == g, g.halts(sent: c.sent, converted: c.converted)
            else { return nil }
            let halt = PumpingHalt(
                account: c.account,
                country: c.country,
                type: c.type,
                haltedAtMs: nowMs,
                sent: c.sent,
                converted: c.converted
            )
            return (halt, c.countedFromMs)
        }
    }

    static func warning(_ h: PumpingHalt, _ g: PumpingGuard) -> String {
        let lift = "petrel limits lift --account \(h.account)" + (h.country.isEmpty ? "" : " --country \(h.country)")
        return "limits.pumpingGuard: halted account \(h.account)'s \(h.type.rawValue) messages to \(h.place): "
            + "\(h.sent) sent within \(g.windowMs / 1000)s, \(h.converted) reported converted (rate "
            + "\(PumpingHalt.format(h.rate)), below \(g.minConversionRate)); they are refused with OUT_OF_SERVICE "
            + "until an operator runs \(lift)"
    }
}

/// `petrel_pumping_halted{account,country}`: 1 while halted, back to 0 once lifted.
struct PumpingGauges {
    private var shown = Set<[String]>()

    mutating func record(_ halts: [PumpingHalt]) {
        let now = Set(halts.map { [$0.account, $0.country] })
        for pair in shown.union(now) {
            CoreMetrics.Gauge(label: "petrel_pumping_halted", dimensions: [("account", pair[0]), ("country", pair[1])])
                .record(now.contains(pair) ? 1 : 0)
        }
        shown = now
    }
}
