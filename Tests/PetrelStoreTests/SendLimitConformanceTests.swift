import Foundation
import PetrelCore
import PetrelStore
import Testing

/// `limits.perNumber` in the store: checked and counted in the accept's transaction, on every backend.
@Suite struct SendLimitConformanceTests {
    static let t0: Int64 = 1_800_000_000_000
    let otp = NumberLimits(byType: [.otp: WindowCounts(minute: 1, hour: 3, day: 4)])

    func send(_ id: Int64, _ type: MessageType = .otp, to: String = "85291234567", at: Int64) -> WriteBatch {
        WriteBatch(messages: [message(id, to: to, type: type, createdAtMs: at)])
    }

    @Test(arguments: StoreKind.allCases)
    func windowsRollAtTheirEdges(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let t0 = Self.t0
            #expect(try await store.commit(send(1, at: t0), limits: otp) == [nil])
            // 59.999 s later the first still counts in the minute; 60 s later it does not.
            let refused = try await store.commit(send(2, at: t0 + 59_999), limits: otp)
            #expect(refused.map { $0?.code } == ["BUSINESS_LIMIT_CONTROL_MINUTE"])
            #expect(try await store.message(id: 2, account: "acme") == nil)
            #expect(try await store.commit(send(3, at: t0 + 60_000), limits: otp) == [nil])
            #expect(try await store.commit(send(4, at: t0 + 120_000), limits: otp) == [nil])
            // Three in the hour: the fourth is refused by the hour until the first leaves it.
            let hour = try await store.commit(send(5, at: t0 + 180_000), limits: otp)
            #expect(hour.map { $0?.code } == ["isv.BUSINESS_LIMIT_HOUR"])
            #expect(try await store.commit(send(6, at: t0 + 3_600_000), limits: otp) == [nil])
            // Four in the day (refusals never counted): refused by the day until the first is a day old.
            let day = try await store.commit(send(7, at: t0 + 7_200_000), limits: otp)
            #expect(day.map { $0?.code } == ["isv.BUSINESS_LIMIT_DAY"])
            #expect(try await store.commit(send(8, at: t0 + 86_400_000), limits: otp) == [nil])
            #expect(try await store.message(id: 8, account: "acme") != nil)
            // Another account, another number: counted apart.
            var other = send(9, at: t0 + 86_400_000)
            other.messages[0].account = "other"
            #expect(try await store.commit(other, limits: otp) == [nil])
            #expect(try await store.commit(send(10, to: "85291234568", at: t0 + 86_400_000), limits: otp) == [nil])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func typedLimitsCountTheirTypeAndStarCountsAll(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let t0 = Self.t0
            let limits = NumberLimits(
                byType: [.otp: WindowCounts(day: 1)],
                anyType: WindowCounts(day: 3),
                allowNumbers: ["85290000000"]
            )
            #expect(try await store.commit(send(1, .otp, at: t0), limits: limits) == [nil])
            #expect(
                try await store.commit(send(2, .otp, at: t0 + 1), limits: limits).map { $0?.code } == [
                    "isv.BUSINESS_LIMIT_DAY"
                ]
            )
            // NOTIFY has no limit of its own: only "*" holds it, and the OTP counts there.
            #expect(try await store.commit(send(3, .notify, at: t0 + 2), limits: limits) == [nil])
            #expect(try await store.commit(send(4, .mkt, at: t0 + 3), limits: limits) == [nil])
            #expect(
                try await store.commit(send(5, .notify, at: t0 + 4), limits: limits).map { $0?.code } == [
                    "isv.BUSINESS_LIMIT_DAY"
                ]
            )
            // An allowed number is never limited, however many.
            for id in Int64(6)...9 {
                #expect(try await store.commit(send(id, .otp, to: "85290000000", at: t0 + id), limits: limits) == [nil])
            }
            // Within one batch, earlier messages count against later ones to the same number.
            let batch = WriteBatch(
                nonce: NonceRecord(hash: 77, expiresAtMs: t0 + 900_000),
                messages: [
                    message(10, to: "85291110000", type: .notify, createdAtMs: t0),
                    message(11, to: "85291110000", type: .notify, createdAtMs: t0),
                    message(12, to: "85291110001", type: .notify, createdAtMs: t0),
                    message(13, to: "85291110000", type: .notify, createdAtMs: t0),
                    message(14, to: "85291110000", type: .notify, createdAtMs: t0),
                ]
            )
            let outcome = try await store.commit(batch, limits: limits)
            #expect(outcome.map { $0?.code } == [nil, nil, nil, nil, "isv.BUSINESS_LIMIT_DAY"])
            #expect(try await store.message(id: 13, account: "acme") != nil)
            #expect(try await store.message(id: 14, account: "acme") == nil)
            // Every message refused: the request's nonce is spent all the same.
            let refusedAll = try await store.commit(
                WriteBatch(
                    nonce: NonceRecord(hash: 78, expiresAtMs: t0 + 900_000),
                    messages: [message(15, to: "85291110000", type: .notify, createdAtMs: t0)]
                ),
                limits: limits
            )
            #expect(refusedAll.map { $0?.code } == ["isv.BUSINESS_LIMIT_DAY"])
            #expect(try await store.message(id: 15, account: "acme") == nil)
            #expect(try await store.liveNonces(nowMs: t0).map(\.hash).sorted() == [77, 78])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func concurrentRequestsUnderLimitsCountEachOther(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let limits = NumberLimits(byType: [.otp: WindowCounts(day: 5)])
            let t0 = Self.t0
            // Twelve requests at once to one number (grouped into shared transactions on PostgreSQL): five go.
            let outcomes = try await withThrowingTaskGroup(of: ResponseCode?.self) { group in
                for i in 0..<12 {
                    group.addTask {
                        let batch = WriteBatch(
                            nonce: NonceRecord(hash: Int64(100 + i), expiresAtMs: t0 + 900_000),
                            messages: [message(Int64(i + 1), type: .otp, createdAtMs: t0 + Int64(i))]
                        )
                        return try await store.commit(batch, limits: limits)[0]
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == nil }.count == 5)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func oldSendsArePruned(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let limits = NumberLimits(byType: [.otp: WindowCounts(day: 5)])
            for id in Int64(1)...3 {
                _ = try await store.commit(send(id, to: "8529123456\(id)", at: Self.t0), limits: limits)
            }
            #expect(try await store.pruneSendCounts(beforeMs: Self.t0 - 1) == 0)
            #expect(try await store.pruneSendCounts(beforeMs: Self.t0) == 3)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aPruneOfManyBatchesTakesOnlyTheOld(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            // More than a prune's batch (5,000) old sends, then newer ones: all the old go, none of the new.
            let limits = NumberLimits(byType: [.otp: WindowCounts(day: 5)])
            let old = (1...12_001).map {
                message(Int64($0), to: "8529\(1_000_000 + $0)", type: .otp, createdAtMs: Self.t0)
            }
            _ = try await store.commit(WriteBatch(messages: old), limits: limits)
            let new = (1...10).map {
                message(Int64(20_000 + $0), to: "8529\(1_000_000 + $0)", type: .otp, createdAtMs: Self.t0 + 1)
            }
            _ = try await store.commit(WriteBatch(messages: new), limits: limits)
            #expect(try await store.pruneSendCounts(beforeMs: Self.t0) == 12_001)
            #expect(try await store.pruneSendCounts(beforeMs: Self.t0 + 1) == 10)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func countsSurviveAReopen(kind: StoreKind) async throws {
        let limits = NumberLimits(byType: [.otp: WindowCounts(day: 2)])
        try await withReopenedStore(kind) { store, round in
            switch round {
            case 0:
                #expect(try await store.commit(send(1, at: Self.t0), limits: limits) == [nil])
                #expect(try await store.commit(send(2, at: Self.t0 + 1), limits: limits) == [nil])
            default:
                let refused = try await store.commit(send(3, at: Self.t0 + 2), limits: limits)
                #expect(refused.map { $0?.code } == ["isv.BUSINESS_LIMIT_DAY"])
            }
        }
    }
}

/// Opens a store, runs `body` (round 0), closes it, opens the same data again and runs `body` (round 1).
func withReopenedStore(_ kind: StoreKind, _ body: (any MessageStore, Int) async throws -> Void) async throws {
    let secrets = try SecretBox(key: Array(repeating: 1, count: 32))
    switch kind {
    case .sqlite:
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("petrel-store-\(UUID().uuidString)")
            .path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for round in 0..<2 {
            let store = try SQLiteStore(directory: dir, secrets: secrets)
            do {
                try await body(store, round)
            } catch {
                try? await store.close()
                throw error
            }
            try await store.close()
        }
    case .postgres:
        guard let server = ProcessInfo.processInfo.environment["PETREL_TEST_POSTGRES"] else { throw NoPostgres() }
        let name = "petrel_test_\(UUID().uuidString.prefix(8).lowercased())"
        let url = try await PostgresStore.createDatabase(url: server, name: name)
        defer { Task { try? await PostgresStore.dropDatabase(url: server, name: name) } }
        for round in 0..<2 {
            let store = try await PostgresStore(url: url, secrets: secrets)
            do {
                try await body(store, round)
            } catch {
                try? await store.close()
                throw error
            }
            try await store.close()
        }
    }
}

extension SendLimitConformanceTests {
    @Test(arguments: StoreKind.allCases)
    func aCampaignChunksRefusedRowsAreCountedFailed(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let rows = (0..<3).map { CampaignRow(to: "8529123456\($0)", body: "Hi \($0)") }
            let id = try await store.createCampaign(ConsoleConformanceTests().campaign(rows: 3), rows: rows)
            #expect(try await store.setCampaignStatus(id: id, account: "acme", to: .running, from: [.draft], nowMs: 20))
            let limits = NumberLimits(byType: [.notify: WindowCounts(day: 1)])
            let outcome = try await store.commit(
                WriteBatch(
                    messages: [
                        message(1, to: "85291234560", createdAtMs: Self.t0),
                        message(2, to: "85291234560", createdAtMs: Self.t0),
                        message(3, to: "85291234561", createdAtMs: Self.t0),
                    ],
                    campaign: CampaignProgress(campaignId: id, from: 0, cursor: 3, accepted: 3, failed: 0, atMs: 30)
                ),
                limits: limits
            )
            #expect(outcome.map { $0?.code } == [nil, "isv.BUSINESS_LIMIT_DAY", nil])
            let stored = try #require(try await store.campaign(id: id, account: "acme"))
            #expect(stored.cursor == 3 && stored.accepted == 2 && stored.failed == 1)
            #expect(try await store.message(id: 2, account: "acme") == nil)
        }
    }

    /// What a campaign's preview reads: the sends counted per number, of one account, since a time.
    @Test(arguments: StoreKind.allCases)
    func countedSendsAreReadByNumberAndAccount(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let t0 = Self.t0
            let any = NumberLimits(anyType: WindowCounts(day: 100))
            #expect(try await store.commit(send(1, .otp, at: t0), limits: any) == [nil])
            #expect(try await store.commit(send(2, .notify, at: t0 + 10), limits: any) == [nil])
            #expect(try await store.commit(send(3, .mkt, to: "85291234568", at: t0 + 20), limits: any) == [nil])
            var other = send(4, .otp, to: "85291234568", at: t0 + 30)
            other.messages[0].account = "other"
            #expect(try await store.commit(other, limits: any) == [nil])
            // 600 numbers: more than one chunk of the SQLite statement.
            let numbers = ["85291234567", "85291234568"] + (0..<600).map { "8529000\(1000 + $0)" }
            let found = try await store.countedSends(account: "acme", recipients: numbers, sinceMs: t0 - 1)
            #expect(Set(found.keys) == ["85291234567", "85291234568"])
            #expect(
                found["85291234567"]?.sorted { $0.atMs < $1.atMs } == [
                    LimitedSend(type: .otp, atMs: t0), LimitedSend(type: .notify, atMs: t0 + 10),
                ]
            )
            #expect(found["85291234568"] == [LimitedSend(type: .mkt, atMs: t0 + 20)])
            // Only after sinceMs; nothing asked, nothing read.
            let later = try await store.countedSends(account: "acme", recipients: numbers, sinceMs: t0)
            #expect(later["85291234567"] == [LimitedSend(type: .notify, atMs: t0 + 10)])
            #expect(try await store.countedSends(account: "acme", recipients: [], sinceMs: 0).isEmpty)
        }
    }
}
