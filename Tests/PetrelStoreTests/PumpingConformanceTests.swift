import PetrelCore
import PetrelStore
import Testing

/// `limits.pumpingGuard` in the store: sends counted in the accept's transaction, conversions as a report is
/// stored (once per message), halts made once and lifted, on every backend.
@Suite struct PumpingConformanceTests {
    static let t0: Int64 = 1_800_000_000_000
    /// One hour's window: buckets of a minute.
    let otp = SendLimits(
        pumpingGuard: PumpingGuard(type: .otp, windowMs: 3_600_000, minSent: 3, minConversionRate: 0.5)
    )

    func send(_ id: Int64, _ type: MessageType = .otp, to: String = "85291234567", at: Int64) -> WriteBatch {
        WriteBatch(messages: [message(id, to: to, type: type, createdAtMs: at)])
    }

    func converted(_ id: Int64, at: Int64, bucket: PumpingBucket?, delivered: Bool = true) -> WriteBatch {
        WriteBatch(conversions: [
            ConversionRecord(
                account: "acme",
                messageId: id,
                to: "85291234567",
                delivered: delivered,
                conversionTimeMs: nil,
                receivedAtMs: at,
                pumping: bucket
            )
        ])
    }

    func counts(_ store: any MessageStore, since: Int64 = t0 - 1) async throws -> [String] {
        try await store.pumpingCounts(type: .otp, sinceMs: since).map {
            "\($0.account) \($0.country) \($0.sent) \($0.converted)"
        }
    }

    @Test(arguments: StoreKind.allCases)
    func sendsOfTheGuardedTypeAndConversionsAreCountedByCountryOncePerMessage(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let t0 = Self.t0
            #expect(try await store.commit(send(1, at: t0), limits: otp) == [nil])
            #expect(try await store.commit(send(2, at: t0 + 61_000), limits: otp) == [nil])
            #expect(try await store.commit(send(3, to: "6591234567", at: t0), limits: otp) == [nil])
            // Another Type is not counted (and its accept is not held back).
            #expect(try await store.commit(send(4, .notify, at: t0), limits: otp) == [nil])
            #expect(try await counts(store) == ["acme HK 2 0", "acme SG 1 0"])

            let hk = PumpingBucket(country: "HK", type: .otp, start: otp.pumpingGuard!.bucket(t0))
            try await store.commit(converted(1, at: t0 + 5000, bucket: hk))
            // The same message reported again counts once; a report of not converted, or one the guard does not
            // count (no bucket), not at all.
            try await store.commit(converted(1, at: t0 + 6000, bucket: hk))
            try await store.commit(converted(2, at: t0 + 7000, bucket: hk, delivered: false))
            try await store.commit(converted(3, at: t0 + 8000, bucket: nil))
            #expect(try await counts(store) == ["acme HK 2 1", "acme SG 1 0"])
            #expect(try await store.conversions(account: "acme").count == 4)
            // The window: buckets starting before `since` are left out.
            #expect(try await counts(store, since: t0 + 60_000) == ["acme HK 1 0"])
            // Pruned with the other counters.
            #expect(try await store.pruneSendCounts(beforeMs: t0 + 60_000) >= 2)
            #expect(try await counts(store) == ["acme HK 1 0"])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aHaltIsMadeOnceListedLiftedAndCountsStartAgainFromTheLift(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let t0 = Self.t0
            for i in Int64(1)...3 { #expect(try await store.commit(send(i, at: t0 + i), limits: otp) == [nil]) }
            let halt = PumpingHalt(
                account: "acme",
                country: "HK",
                type: .otp,
                haltedAtMs: t0 + 10,
                sent: 3,
                converted: 0
            )
            #expect(try await store.haltPumping(halt, countedFromMs: nil))
            // A second node deciding the same at once makes no second halt.
            #expect(try await !store.haltPumping(halt, countedFromMs: nil))
            #expect(try await store.pumpingHalts(account: nil) == [halt])
            #expect(try await store.pumpingHalts(account: "other").isEmpty)
            // A halted pair is not summed (there is nothing to decide).
            #expect(try await counts(store).isEmpty)

            #expect(try await store.liftPumpingHalts(account: "acme", country: "SG", nowMs: t0 + 20).isEmpty)
            let lift = t0 + 120_000
            #expect(try await store.liftPumpingHalts(account: "acme", country: nil, nowMs: lift) == [halt])
            #expect(try await store.pumpingHalts(account: nil).isEmpty)
            #expect(try await store.liftPumpingHalts(account: "acme", country: nil, nowMs: lift + 1).isEmpty)
            // The sends before the lift no longer count; one after it does.
            #expect(try await counts(store).isEmpty)
            #expect(try await store.commit(send(4, at: lift + 60_000), limits: otp) == [nil])
            let after = try await store.pumpingCounts(type: .otp, sinceMs: t0)
            #expect(after.map { "\($0.sent) \($0.countedFromMs ?? 0)" } == ["1 \(lift)"])

            // A halt decided from counts read before a lift is not made (the lift it counted from changed).
            #expect(try await !store.haltPumping(halt, countedFromMs: nil))
            #expect(try await !store.haltPumping(halt, countedFromMs: t0))
            #expect(try await store.pumpingHalts(account: nil).isEmpty)
            // From the lift it counted from: halted again.
            var again = halt
            again.haltedAtMs = lift + 70_000
            #expect(try await store.haltPumping(again, countedFromMs: lift))
            #expect(try await store.pumpingHalts(account: "acme") == [again])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func haltsSurviveAReopen(kind: StoreKind) async throws {
        let halt = PumpingHalt(account: "acme", country: "SG", type: .otp, haltedAtMs: Self.t0, sent: 9, converted: 1)
        try await withReopenedStore(kind) { store, round async throws in
            if round == 0 {
                #expect(try await store.haltPumping(halt, countedFromMs: nil))
            } else {
                #expect(try await store.pumpingHalts(account: nil) == [halt])
            }
        }
    }
}
