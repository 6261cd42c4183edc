import PetrelCore
import PetrelStore
import Testing

/// `limits.caps` in the store: parts counted per account, country and calendar UTC period, in the accept's
/// transaction, on every backend.
@Suite struct CapConformanceTests {
    /// 2027-01-15 08:00:00 UTC: the top of an hour.
    static let t0: Int64 = 1_800_000_000_000
    static let hour: Int64 = 3_600_000
    /// 2027-01-16 00:00:00 UTC.
    static let nextDay: Int64 = 1_800_057_600_000

    func send(_ id: Int64, to: String = "85291234567", parts: Int = 1, at: Int64) -> WriteBatch {
        var m = message(id, to: to, type: .notify, createdAtMs: at)
        m.segments = parts
        return WriteBatch(messages: [m])
    }

    func codes(_ r: [ResponseCode?]) -> [String?] { r.map { $0?.code } }

    @Test(arguments: StoreKind.allCases)
    func partsAreCountedUntilTheCalendarPeriodRollsOver(kind: StoreKind) async throws {
        let limits = SendLimits(caps: SendCaps([SendCap(account: "acme", hour: 5, day: 8)]))
        try await withStore(kind) { store, _ in
            let t0 = Self.t0
            #expect(try await store.commit(send(1, parts: 3, at: t0), limits: limits) == [nil])
            // 3 used of 5 this hour: a 3-part message does not fit, a 2-part one does.
            let over = try await store.commit(send(2, parts: 3, at: t0 + 1), limits: limits)
            #expect(codes(over) == ["OUT_OF_SERVICE"])
            #expect(over.first??.description.contains("hour") == true)
            #expect(try await store.message(id: 2, account: "acme") == nil)
            #expect(try await store.commit(send(3, parts: 2, at: t0 + 2), limits: limits) == [nil])
            #expect(
                codes(try await store.commit(send(4, at: t0 + Self.hour - 1), limits: limits)) == ["OUT_OF_SERVICE"]
            )
            // The next calendar hour: the hour counter starts again, the day's 5 still count (3 left).
            #expect(try await store.commit(send(5, parts: 3, at: t0 + Self.hour), limits: limits) == [nil])
            #expect(
                codes(try await store.commit(send(6, at: t0 + Self.hour + 1), limits: limits)) == ["OUT_OF_SERVICE"]
            )
            // Midnight UTC: a new day.
            #expect(try await store.commit(send(7, parts: 5, at: Self.nextDay), limits: limits) == [nil])
            // Another account is counted apart (and, without caps of its own, not at all).
            var other = send(8, parts: 5, at: Self.nextDay)
            other.messages[0].account = "other"
            #expect(
                try await store.commit(other, limits: SendLimits(caps: SendCaps([SendCap(account: "other", hour: 5)])))
                    == [nil]
            )

            let counters = try await store.capCounters(account: "acme", nowMs: Self.nextDay)
            #expect(counters.map { "\($0.key.window.rawValue) \($0.parts)" }.sorted() == ["day 5", "hour 5"])
            #expect(counters.allSatisfy { $0.account == "acme" && $0.key.country.isEmpty })
            #expect(try await store.capCounters(account: nil, nowMs: Self.nextDay).count == 3)
            // Periods that ended are forgotten by the prune (and were never shown).
            #expect(try await store.pruneSendCounts(beforeMs: Self.nextDay) == 3)
            #expect(try await store.capCounters(account: nil, nowMs: t0).count == 3)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aCountryCapHoldsOnlyThatCountryAndABatchCountsItself(kind: StoreKind) async throws {
        let limits = SendLimits(
            caps: SendCaps([SendCap(account: "acme", day: 100), SendCap(account: "acme", country: "SG", day: 2)])
        )
        try await withStore(kind) { store, _ in
            var batch = WriteBatch(
                nonce: NonceRecord(hash: 5, expiresAtMs: Self.t0 + 900_000),
                messages: [
                    message(1, to: "6591234567", type: .notify, createdAtMs: Self.t0),
                    message(2, to: "85291234567", type: .notify, createdAtMs: Self.t0),
                    message(3, to: "6591234568", type: .notify, createdAtMs: Self.t0),
                    message(4, to: "6591234569", type: .notify, createdAtMs: Self.t0),
                    message(5, to: "85291234568", type: .notify, createdAtMs: Self.t0),
                ]
            )
            batch.messages[0].segments = 1
            let outcome = try await store.commit(batch, limits: limits)
            #expect(codes(outcome) == [nil, nil, nil, "OUT_OF_SERVICE", nil])
            #expect(outcome[3]?.description.contains("SG") == true)
            let counters = try await store.capCounters(account: "acme", nowMs: Self.t0)
            #expect(counters.map { "\($0.key.country) \($0.parts)" }.sorted() == [" 4", "SG 2"])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func capsSurviveAReopen(kind: StoreKind) async throws {
        let limits = SendLimits(caps: SendCaps([SendCap(account: "acme", month: 2)]))
        try await withReopenedStore(kind) { store, round in
            switch round {
            case 0:
                #expect(try await store.commit(send(1, parts: 2, at: Self.t0), limits: limits) == [nil])
            default:
                // Still January 2027 (two weeks later): the month's cap holds.
                let refused = try await store.commit(send(2, at: Self.t0 + 14 * 86_400_000), limits: limits)
                #expect(codes(refused) == ["OUT_OF_SERVICE"])
            }
        }
    }
}
