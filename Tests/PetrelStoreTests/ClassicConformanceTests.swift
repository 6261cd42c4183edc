import PetrelCore
import PetrelStore
import Testing

/// dysmsapi 2017-05-25's reads on every backend: QuerySendDetails sees only its version's messages of one number
/// in an id range (a day, a BizId), page by page; QuerySendStatistics totals an account's messages per local day.
@Suite struct ClassicConformanceTests {
    /// 2027-01-15 08:00:00 UTC, 16:00 in +0800.
    static let t0: Int64 = 1_800_000_000_000
    static let day: Int64 = 86_400_000
    static let offsetMs: Int64 = 8 * 3_600_000

    func classic(_ id: Int64, to: String, account: String = "acme", at: Int64, biz: Int64 = 7) -> Message {
        var m = message(id, to: to, account: account, createdAtMs: at)
        m.api = .classic
        m.templateCode = "SMS_1"
        m.bizId = biz
        return m
    }

    @Test(arguments: StoreKind.allCases)
    func sendDetailsSeeOneNumbersClassicMessagesInTheirIdRange(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let base = MessageIDGenerator.firstId(atMs: Self.t0)
            let a = "8613800138000"
            try await store.commit(
                WriteBatch(messages: [
                    classic(base + 1, to: a, at: Self.t0), classic(base + 2, to: a, at: Self.t0),
                    classic(base + 3, to: "85291234567", at: Self.t0),
                    message(base + 4, to: a, createdAtMs: Self.t0),  // 2018-05-01: not QuerySendDetails'
                    classic(base + 5, to: a, account: "other", at: Self.t0),
                    classic(base + 6, to: a, at: Self.t0, biz: 9),
                ])
            )
            let day = base...(MessageIDGenerator.firstId(atMs: Self.t0 + 60_000))
            var q = SendDetailsQuery(account: "acme", to: a, ids: day, offset: 0, limit: 2)
            let page1 = try await store.sendDetails(q)
            #expect(page1.total == 3)
            #expect(page1.messages.map(\.id) == [base + 1, base + 2])
            #expect(page1.messages.first?.api == .classic)
            #expect(page1.messages.first?.templateCode == "SMS_1")
            #expect(page1.messages.first?.bizId == 7)
            q.offset = 2
            #expect(try await store.sendDetails(q).messages.map(\.id) == [base + 6])
            // One request's messages (its BizId).
            q.offset = 0
            q.bizId = 9
            #expect(try await store.sendDetails(q).messages.map(\.id) == [base + 6])
            q.bizId = 8
            #expect(try await store.sendDetails(q).total == 0)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func statisticsTotalEachLocalDayByOutcome(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let base = MessageIDGenerator.firstId(atMs: Self.t0)
            // 16:00 and, 9 hours later, 01:00 of the next local day (still the 15th in UTC).
            let later = Self.t0 + 9 * 3_600_000
            let next = MessageIDGenerator.firstId(atMs: later)
            try await store.commit(
                WriteBatch(messages: [
                    classic(base + 1, to: "85291234567", at: Self.t0),
                    message(base + 2, to: "6581234567", createdAtMs: Self.t0),  // 2018-05-01 counts too
                    classic(base + 3, to: "8613800138000", at: Self.t0),
                    classic(next + 1, to: "85291234567", at: later),
                    classic(next + 2, to: "85291234567", account: "other", at: later),
                ])
            )
            _ = try await store.apply([StatusUpdate(id: base + 2, status: .failed, errorCode: "X", atMs: Self.t0 + 1)])
            let all =
                MessageIDGenerator.firstId(
                    atMs: Self.t0 - Self.day
                )..<MessageIDGenerator.firstId(atMs: Self.t0 + 2 * Self.day)
            let intl = try await store.sendStatistics(
                SendStatisticsQuery(account: "acme", ids: all, mainland: false, offsetMs: Self.offsetMs)
            )
            let firstDay = (Self.t0 + Self.offsetMs) / Self.day
            #expect(
                intl == [
                    DayTotals(day: firstDay, total: 2, delivered: 0, failed: 1),
                    DayTotals(day: firstDay + 1, total: 1, delivered: 0, failed: 0),
                ]
            )
            let mainland = try await store.sendStatistics(
                SendStatisticsQuery(account: "acme", ids: all, mainland: true, offsetMs: Self.offsetMs)
            )
            #expect(mainland == [DayTotals(day: firstDay, total: 1, delivered: 0, failed: 0)])
        }
    }
}
