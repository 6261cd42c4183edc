import PetrelCore
import Testing

@Suite struct PumpingGuardTests {
    @Test func haltsFromMinSentWhenTheRateIsBelowTheMinimum() {
        let g = PumpingGuard(type: .otp, windowMs: 3_600_000, minSent: 10, minConversionRate: 0.2)
        #expect(!g.halts(sent: 9, converted: 0))
        #expect(g.halts(sent: 10, converted: 1))
        // Exactly the minimum rate is not below it.
        #expect(!g.halts(sent: 10, converted: 2))
        // More conversions than sends (reports of sends from before the guard) never make a negative surprise.
        #expect(!g.halts(sent: 10, converted: 50))
        #expect(!PumpingGuard(minSent: 1, minConversionRate: 0).halts(sent: 100, converted: 0))
        #expect(PumpingGuard(minSent: 1, minConversionRate: 1).halts(sent: 1, converted: 0))
    }

    @Test func bucketsAreASixtiethOfTheWindowAndAtLeastASecond() {
        let hour = PumpingGuard(windowMs: 3_600_000)
        #expect(hour.bucketMs == 60_000)
        #expect(hour.bucket(1_800_000_059_999) == 1_800_000_000_000)
        #expect(hour.bucket(1_800_000_060_000) == 1_800_000_060_000)
        #expect(PumpingGuard(windowMs: 10_000).bucketMs == 1000)
        #expect(hour.bucket(-1) == -60_000)
    }

    @Test func theBoardAnswersByAccountCountryAndType() {
        let board = PumpingHaltBoard()
        let halt = PumpingHalt(account: "a", country: "HK", type: .otp, haltedAtMs: 0, sent: 3, converted: 0)
        board.replace([halt])
        #expect(board.halt(account: "a", country: "HK", type: .otp) == halt)
        #expect(board.halt(account: "a", country: "SG", type: .otp) == nil)
        #expect(board.halt(account: "a", country: "HK", type: .notify) == nil)
        #expect(board.halt(account: "b", country: "HK", type: .otp) == nil)
        board.replace([])
        #expect(board.halt(account: "a", country: "HK", type: .otp) == nil)
    }
}
