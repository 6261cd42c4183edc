import PetrelCore
import Testing

@testable import PetrelServer

@Suite struct CapWatchTests {
    /// 2027-01-15 08:00:00 UTC.
    static let t0: Int64 = 1_800_000_000_000

    func counter(_ parts: Int, country: String = "", window: CapWindow = .day, at: Int64 = t0) -> CapCounter {
        let (start, end) = window.period(at)
        return CapCounter(
            account: "acme",
            key: CapKey(country: country, window: window, start: start),
            end: end,
            parts: parts
        )
    }

    @Test func warnAtAndReachedAreLoggedOncePerPeriod() {
        var state = CapWatchState(caps: [
            SendCap(account: "acme", day: 10, warnAt: 0.8), SendCap(account: "acme", country: "SG", hour: 4),
        ])
        let quiet = state.sample([counter(7)], nowMs: Self.t0)
        #expect(quiet.map(\.ratio) == [0.7, 0])
        #expect(quiet.map(\.country) == ["all", "SG"])
        #expect(quiet.allSatisfy { $0.warning == nil })
        // Crossing 0.8: one warning, then none for the following messages of the same day.
        let crossed = state.sample([counter(8)], nowMs: Self.t0 + 1)
        #expect(crossed[0].warning?.contains("used 8 of its 10 parts this day (UTC), past warnAt 0.8") == true)
        #expect(state.sample([counter(9)], nowMs: Self.t0 + 2)[0].warning == nil)
        // Reaching it: one more line, then quiet; the SG hour's cap has no warnAt but says when it is reached.
        let reached = state.sample([counter(10), counter(4, country: "SG", window: .hour)], nowMs: Self.t0 + 3)
        #expect(reached[0].warning?.contains("account acme reached its cap of 10 parts this day") == true)
        #expect(reached[1].warning?.contains("account acme in SG reached its cap of 4 parts this hour") == true)
        #expect(state.sample([counter(10)], nowMs: Self.t0 + 4).allSatisfy { $0.warning == nil })
        // The next day: counted again from zero, and warned again when crossed.
        let nextDay = Self.t0 + 86_400_000
        #expect(state.sample([counter(9, at: nextDay)], nowMs: nextDay)[0].warning != nil)
        #expect(state.warned.count == 1)
    }

    @Test func aCounterPastWarnAtThatReachesAtOnceLogsOnlyTheCap() {
        var state = CapWatchState(caps: [SendCap(account: "acme", day: 10, warnAt: 0.5)])
        #expect(state.sample([counter(10)], nowMs: Self.t0)[0].warning?.contains("reached") == true)
        #expect(state.sample([counter(10)], nowMs: Self.t0 + 1)[0].warning == nil)
    }

    /// After a reload (SIGHUP) took a cap away, its gauges are set to 0 once, not left at their last value.
    @Test func aCapTakenAwayHasItsGaugesClearedOnce() {
        var state = CapWatchState(caps: [
            SendCap(account: "acme", day: 10), SendCap(account: "acme", country: "SG", hour: 4),
        ])
        let before = state.sample([counter(4, country: "SG", window: .hour)], nowMs: Self.t0)
        #expect(before.map(\.country) == ["all", "SG"] && before[1].ratio == 1)
        state.caps = [SendCap(account: "acme", day: 10)]
        let after = state.sample([counter(4, country: "SG", window: .hour)], nowMs: Self.t0 + 1)
        #expect(
            after.map { "\($0.country) \($0.window.rawValue) \($0.ratio) \($0.used >= $0.limit)" } == [
                "all day 0.0 false", "SG hour 0.0 false",
            ]
        )
        #expect(state.sample([], nowMs: Self.t0 + 2).count == 1)
        state.caps = []
        #expect(state.sample([], nowMs: Self.t0 + 3).map(\.country) == ["all"])
        #expect(state.sample([], nowMs: Self.t0 + 4).isEmpty)
    }
}
