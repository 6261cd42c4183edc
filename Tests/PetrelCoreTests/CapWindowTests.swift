import PetrelCore
import Testing

@Suite struct CapWindowTests {
    @Test func calendarPeriodsInUTC() {
        // 2027-01-15 08:00:00 UTC.
        let t0: Int64 = 1_800_000_000_000
        #expect(CapWindow.hour.period(t0 + 59 * 60_000) == (t0, t0 + 3_600_000))
        #expect(CapWindow.day.period(t0) == (1_799_971_200_000, 1_800_057_600_000))
        // January 2027: 2027-01-01 to 2027-02-01.
        #expect(CapWindow.month.period(t0) == (1_798_761_600_000, 1_801_440_000_000))
        // A leap February (2028-02-10): 29 days.
        let feb = CapWindow.month.period(1_833_840_000_000)
        #expect(feb.end - feb.start == 29 * 86_400_000)
        // December rolls into the next year.
        let dec = CapWindow.month.period(1_828_000_000_000)
        #expect(dec.end - dec.start == 31 * 86_400_000)
    }
}
