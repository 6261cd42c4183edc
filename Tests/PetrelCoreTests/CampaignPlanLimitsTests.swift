import Testing

@testable import PetrelCore

/// A campaign's preview counts the rows its account's limits would refuse as invalid, with the refusal.
@Suite struct CampaignPlanLimitsTests {
    static let now: Int64 = 1_795_000_000_000
    static let day = CapWindow.day.period(now)

    static let csv = """
        number,text
        85291234567,hi
        6581234567,hi
        6581234568,hi
        85291234568,\(String(repeating: "a", count: 200))
        85291234569,hi
        """

    @Test func rowsPastACapOrOverAPerNumberLimitBecomeInvalidInLineOrder() throws {
        var plan = try CampaignPlan.build(csv: Self.csv + "\n12345,bad", text: "${text}")
        #expect(plan.valid.count == 5 && plan.invalid.map(\.line) == [7] && plan.parts == 6)
        let limits = SendLimits(
            perNumber: NumberLimits(byType: [.notify: WindowCounts(day: 1)]),
            caps: SendCaps([SendCap(account: "a", day: 5), SendCap(account: "a", country: "SG", hour: 1)])
        )
        let used = [CapKey(country: "", window: .day, start: Self.day.start): 1]
        let recent = ["85291234569": [LimitedSend(type: .notify, atMs: Self.now - 1000)]]
        let bytes = plan.renderedBytes
        plan.applyLimits(limits, type: .notify, atMs: Self.now, used: used, recent: recent)
        // 1 used + HK (1) + SG (1) + HK (2 parts) = 5; the second SG row is past SG's hour; the last number was
        // sent to already.
        #expect(plan.valid.map(\.to) == ["85291234567", "6581234567", "85291234568"])
        #expect(plan.parts == 4 && plan.renderedBytes == bytes - 4)
        #expect(plan.invalid.map(\.line) == [4, 6, 7])
        #expect(
            plan.invalid[0].reason
                == "OUT_OF_SERVICE: This account's sends to SG reached its cap of 1 parts per calendar hour (UTC) in "
                + "limits.caps (1 used, this message has 1); sending resumes when the hour rolls over."
        )
        #expect(
            plan.invalid[1].reason
                == "isv.BUSINESS_LIMIT_DAY: 85291234569 already received 1 NOTIFY messages from this account in the "
                + "last day; the limit is 1."
        )
        #expect(plan.invalid[1].reportLine.hasPrefix("line 6: 85291234569: isv.BUSINESS_LIMIT_DAY"))
    }

    @Test func aLaterStartFindsItsOwnPeriodAndNoLimitsChangeNothing() throws {
        let base = try CampaignPlan.build(csv: Self.csv, text: "${text}")
        let limits = SendLimits(caps: SendCaps([SendCap(account: "a", day: 3)]))
        let full = [CapKey(country: "", window: .day, start: Self.day.start): 3]
        var today = base
        today.applyLimits(limits, type: .mkt, atMs: Self.now, used: full)
        #expect(today.valid.isEmpty && today.invalid.count == 5 && today.renderedBytes == 0)
        // Tomorrow's day has nothing counted yet: the first rows fit in it.
        var tomorrow = base
        tomorrow.applyLimits(limits, type: .mkt, atMs: Self.day.end, used: full)
        #expect(tomorrow.valid.map(\.to) == ["85291234567", "6581234567", "6581234568"])
        var unlimited = base
        unlimited.applyLimits(SendLimits(countries: .deny(["SG"])), type: .mkt, atMs: Self.now, used: full)
        #expect(unlimited.valid == base.valid && unlimited.invalid.isEmpty)
    }
}
