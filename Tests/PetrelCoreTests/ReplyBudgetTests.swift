import Testing

@testable import PetrelCore

/// Opt-out confirmations are bounded per phone a day and per account an hour, and the phones remembered are bounded.
@Suite struct ReplyBudgetTests {
    let t0: Int64 = 1_800_000_000_000

    @Test func aPhoneTogglingAllDayGetsItsFewConfirmations() {
        var b = ReplyBudget(perPhone: 3, perAccount: 1000)
        let taken = (0..<10).map { b.take(account: "acme", phone: "85291234567", nowMs: t0 + Int64($0) * 60_000) }
        #expect(taken.filter { $0 == nil }.count == 3)
        #expect(taken.last == .phone)
        // Another account's list is its own; and a day after the first, the phone has one again.
        #expect(b.take(account: "other", phone: "85291234567", nowMs: t0 + 600_000) == nil)
        #expect(b.take(account: "acme", phone: "85291234567", nowMs: t0 + ReplyBudget.day + 1) == nil)
    }

    @Test func aFloodOfNumbersIsHeldToTheAccountsHour() {
        var b = ReplyBudget(perPhone: 3, perAccount: 100)
        let taken = (0..<250).map { b.take(account: "acme", phone: "8529100\($0)", nowMs: t0 + Int64($0)) }
        #expect(taken.filter { $0 == nil }.count == 100)
        #expect(taken.last == .account)
        #expect(b.take(account: "acme", phone: "85299999999", nowMs: t0 + ReplyBudget.hour + 250) == nil)
    }

    @Test func rememberedPhonesAreBoundedAndTheBudgetFailsClosed() {
        var b = ReplyBudget(perPhone: 1, perAccount: 1_000_000, maxPhones: 10)
        for i in 0..<10 { #expect(b.take(account: "acme", phone: "852910\(i)", nowMs: t0 + Int64(i)) == nil) }
        #expect(b.take(account: "acme", phone: "85299999999", nowMs: t0 + 20) == .full)
        // A phone remembered still counts as itself; a day later the old ones are forgotten to make room.
        #expect(b.take(account: "acme", phone: "8529100", nowMs: t0 + 30) == .phone)
        #expect(b.take(account: "acme", phone: "85299999999", nowMs: t0 + ReplyBudget.day + 20) == nil)
    }
}
