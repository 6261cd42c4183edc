import Foundation
import PetrelCore
import Testing

@testable import PetrelStore

/// The statistics counters on every backend: accepts, deliveries (with their time to delivery), failures with
/// their codes, expiries and messages still waiting, by hour, country, channel, Type and account; the same after a
/// restart, counting on after it; equal to what the messages themselves say; purged by hour.
@Suite struct StatisticsConformanceTests {
    static let hour = StatsSQL.hourMs

    /// `body` gets a way to open the store, as often as it likes (a restart is a close and an open).
    func withReopenable(
        _ kind: StoreKind,
        _ body: (() async throws -> any MessageStore) async throws -> Void
    )
        async throws
    {
        let secrets = try SecretBox(key: Array(repeating: 1, count: 32))
        switch kind {
        case .sqlite:
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("petrel-stats-\(UUID())").path
            defer { try? FileManager.default.removeItem(atPath: dir) }
            try await body { try SQLiteStore(directory: dir, secrets: secrets) }
        case .postgres:
            guard let server = ProcessInfo.processInfo.environment["PETREL_TEST_POSTGRES"] else { throw NoPostgres() }
            let name = "petrel_test_\(UUID().uuidString.prefix(8).lowercased())"
            let url = try await PostgresStore.createDatabase(url: server, name: name)
            defer { Task { try? await PostgresStore.dropDatabase(url: server, name: name) } }
            try await body { try await PostgresStore(url: url, secrets: secrets) }
        }
    }

    func counts(
        submitted: Int,
        delivered: Int = 0,
        failed: Int = 0,
        expired: Int = 0,
        parts: Int? = nil
    )
        -> StatsCounts
    {
        var c = StatsCounts()
        c.submitted = submitted
        c.parts = parts ?? submitted
        c.delivered = delivered
        c.failed = failed
        c.expired = expired
        return c
    }

    func rows(
        _ store: any MessageStore,
        _ filter: StatsFilter,
        _ by: StatsDimension
    ) async throws -> [String: StatsCounts] {
        var out: [String: StatsCounts] = [:]
        for r in try await store.statistics(filter, by: by) {
            var c = r.counts
            c.delivery = StatsCounts().delivery
            out[r.key] = c
        }
        return out
    }

    @Test(arguments: StoreKind.allCases)
    func countersFollowAcceptsOutcomesAndRestarts(kind: StoreKind) async throws {
        try await withReopenable(kind) { open in
            var store = try await open()
            let later: Int64 = 100 * Self.hour
            var ms = [
                message(1, to: "85291234567", type: .notify, createdAtMs: 1000),
                message(2, to: "8613800138000", type: .otp, createdAtMs: 1000),
                message(3, to: "8613800138001", type: .otp, createdAtMs: 1000),
                message(4, to: "85291234568", type: .notify, createdAtMs: 1000, expiresAtMs: 2000),
                message(5, to: "85291234569", type: .mkt, createdAtMs: Self.hour + 5, notBeforeMs: later),
                message(6, to: "8613800138002", type: .otp, createdAtMs: 1000),
                message(7, to: "8613800138003", account: "other", createdAtMs: 1000, notBeforeMs: later),
            ]
            ms[0].segments = 2
            try await store.commit(WriteBatch(messages: Array(ms[0..<4])))
            try await store.commit(WriteBatch(messages: Array(ms[4...])))
            // 3 fails while queued; 4 expires queued; 1, 2 and 6 go out on smsc-a; 1 is delivered 1.5 s after it
            // was accepted, 2 fails there; 6 waits for its receipt; 5 and 7 wait in the queue.
            _ = try await store.apply([StatusUpdate(id: 3, status: .failed, errorCode: "E1", atMs: 1500)])
            _ = try await store.expireQueued(nowMs: 3000)
            let claimed = try await store.claim(limit: 10, nowMs: 3000, leaseMs: 60_000)
            #expect(Set(claimed.map(\.id)) == [1, 2, 6])
            var sent = DispatchResults()
            sent.sent = [
                SentRecord(
                    id: 1,
                    channel: "smsc-a",
                    carrierMessageId: "c1",
                    sentAtMs: 3000,
                    scheduledReceipt: StatusUpdate(id: 1, status: .delivered, atMs: 2500)
                ),
                SentRecord(id: 2, channel: "smsc-a", carrierMessageId: "c2", sentAtMs: 3000),
                SentRecord(id: 6, channel: "smsc-a", carrierMessageId: "c6", sentAtMs: 3000),
            ]
            try await store.record(sent)
            _ = try await store.applyDueReceipts(nowMs: 5000, limit: 10)
            _ = try await store.apply([StatusUpdate(id: 2, status: .failed, errorCode: "E1", atMs: 5000)])

            let all = StatsFilter(fromMs: 0, toMs: 2 * Self.hour, account: "acme")
            func check(_ store: any MessageStore) async throws {
                #expect(
                    try await rows(store, all, .total)
                        == ["": counts(submitted: 6, delivered: 1, failed: 2, expired: 1, parts: 7)]
                )
                #expect(
                    try await rows(store, all, .country) == [
                        "852": counts(submitted: 3, delivered: 1, expired: 1, parts: 4),
                        "86": counts(submitted: 3, failed: 2),
                    ]
                )
                #expect(
                    try await rows(store, all, .channel) == [
                        "smsc-a": counts(submitted: 2, delivered: 1, failed: 1, parts: 3),
                        "": counts(submitted: 4, failed: 1, expired: 1),
                    ]
                )
                #expect(
                    try await rows(store, all, .type) == [
                        "OTP": counts(submitted: 3, failed: 2),
                        "NOTIFY": counts(submitted: 2, delivered: 1, expired: 1, parts: 3),
                        "MKT": counts(submitted: 1),
                    ]
                )
                #expect(
                    try await rows(store, all, .hour) == [
                        "0": counts(submitted: 5, delivered: 1, failed: 2, expired: 1, parts: 6),
                        String(Self.hour): counts(submitted: 1),
                    ]
                )
                // Days in a zone 8 hours ahead: both hours fall on the same day.
                #expect(try await rows(store, all, .day(offsetSeconds: 8 * 3600)).count == 1)
                // The page's cube (cells of every account, summed as they are read) agrees with each dimension.
                func summed(_ cells: [StatsCell], _ key: (StatsCell) -> String) -> [String: StatsCounts] {
                    var out: [String: StatsCounts] = [:]
                    for c in cells where c.account == "acme" {
                        var counts = c.counts
                        counts.delivery = StatsCounts().delivery
                        out[key(c)] = (out[key(c)] ?? StatsCounts()) + counts
                    }
                    return out
                }
                let accounts = StatsFilter(fromMs: 0, toMs: 2 * Self.hour)
                let hourly = try await store.statisticsCells(accounts, dayOffsetSeconds: nil)
                #expect(Set(hourly.map(\.account)) == ["acme", "other"])
                #expect(summed(hourly) { String($0.period) } == (try await rows(store, all, .hour)))
                #expect(summed(hourly, \.country) == (try await rows(store, all, .country)))
                #expect(summed(hourly, \.channel) == (try await rows(store, all, .channel)))
                #expect(summed(hourly, \.type) == (try await rows(store, all, .type)))
                let daily = try await store.statisticsCells(accounts, dayOffsetSeconds: 8 * 3600)
                #expect(
                    summed(daily) { String($0.period) }
                        == (try await rows(store, all, .day(offsetSeconds: 8 * 3600)))
                )
                #expect(!daily.isEmpty && daily.allSatisfy { $0.period == -8 * 3600 * 1000 })
                // The one delivery took 1.5 s: the bucket up to 2 s, so the median is at most 2 s.
                let total = try await store.statistics(all, by: .total)[0].counts
                #expect(total.delivery == [0, 1] + Array(repeating: 0, count: StatsCounts.buckets - 2))
                #expect(total.medianDeliveryEdgeSeconds == 2)
                #expect(total.waiting == 2)
                let errors = try await store.statisticsErrors(all, limit: 10)
                #expect(errors.first == StatsError(code: "E1", count: 2))
                #expect(errors.contains(StatsError(code: "EXPIRED", count: 1)))
                // Filters narrow; the operator's view (no account) has both accounts.
                var narrow = all
                narrow.country = "86"
                narrow.channel = "smsc-a"
                #expect(try await rows(store, narrow, .total) == ["": counts(submitted: 1, failed: 1)])
                narrow.type = "MKT"
                #expect(try await rows(store, narrow, .total).isEmpty)
                let everyone = StatsFilter(fromMs: 0, toMs: 2 * Self.hour)
                #expect(
                    try await rows(store, everyone, .account) == [
                        "acme": counts(submitted: 6, delivered: 1, failed: 2, expired: 1, parts: 7),
                        "other": counts(submitted: 1),
                    ]
                )
                // What the messages themselves say.
                var byStatus: [MessageStatus: Int] = [:]
                for id in 1...6 {
                    byStatus[try await store.message(id: Int64(id), account: "acme")!.status, default: 0] += 1
                }
                #expect(byStatus[.delivered] == total.delivered && byStatus[.failed] == total.failed)
                #expect(byStatus[.expired] == total.expired)
                #expect((byStatus[.queued] ?? 0) + (byStatus[.sent] ?? 0) == total.waiting)
            }
            try await check(store)

            // A restart: the same counters, and they count on.
            try await store.close()
            store = try await open()
            try await check(store)
            _ = try await store.apply([StatusUpdate(id: 6, status: .delivered, atMs: 1000 + 4_000_000)])
            var after = try await rows(store, all, .channel)
            #expect(after["smsc-a"] == counts(submitted: 3, delivered: 2, failed: 1, parts: 4))
            #expect(after[""] == counts(submitted: 3, failed: 1, expired: 1))
            #expect(try await store.statistics(all, by: .total)[0].counts.delivery.last == 1)

            // Retention: hour 0's counters go, hour 1's stay. (Folded first: their messages are still here, and
            // PostgreSQL's folds wait for every transaction of the cluster below theirs, other tests' too.)
            for _ in 0..<1200 {
                try await store.foldStatistics()
                _ = try await store.purgeStatistics(account: "acme", hourBeforeMs: Self.hour, limit: 100)
                after = try await rows(store, all, .total)
                if after == ["": counts(submitted: 1)] { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(after == ["": counts(submitted: 1)])
            #expect(try await store.statisticsErrors(all, limit: 10).isEmpty)
            #expect(
                try await rows(store, StatsFilter(fromMs: 0, toMs: 2 * Self.hour), .account)["other"]
                    == counts(submitted: 1)
            )
            try await store.close()
        }
    }

    /// Single sends that share a transaction (group commit) count once each; one that fails (a duplicate id) counts
    /// nothing, however its transaction was shared.
    @Test(arguments: StoreKind.allCases)
    func concurrentSinglesCountOnceAndAFailedOneNot(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            try await store.commit(WriteBatch(messages: [message(1, account: "burst", createdAtMs: 1000)]))
            let failures = await withTaskGroup(of: Bool.self) { group in
                for i in 2...41 {
                    // 41 reuses the id of 1.
                    let id = Int64(i == 41 ? 1 : i)
                    group.addTask {
                        (try? await store.commit(
                            WriteBatch(messages: [
                                message(id, type: i % 2 == 0 ? .otp : .mkt, account: "burst", createdAtMs: 1000)
                            ])
                        )) == nil
                    }
                }
                return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(failures == 1)
            let rows = try await store.statistics(StatsFilter(fromMs: 0, toMs: Self.hour, account: "burst"), by: .type)
            #expect(rows.map(\.key) == ["MKT", "NOTIFY", "OTP"])
            #expect(rows.map(\.counts.submitted) == [19, 1, 20])
        }
    }

    /// A fold on `store` that fails after adding to the counters, before its cursor moves.
    func interruptedFold(_ store: any MessageStore) async throws {
        switch store {
        case let s as SQLiteStore: _ = try await s.foldStatistics(interruptBeforeCursor: true)
        case let s as PostgresStore: _ = try await s.foldStatistics(interruptBeforeCursor: true)
        default: Issue.record("no interrupted fold for \(type(of: store))")
        }
    }

    /// A fold that dies before its cursor moves counts nothing (its sums go with it); traffic after it, a restart
    /// (the writer's epoch in memory is gone) and more traffic: the next folds count every event once.
    @Test(arguments: StoreKind.allCases)
    func foldResumesAfterAnInterruptedOne(kind: StoreKind) async throws {
        try await withReopenable(kind) { open in
            var store = try await open()
            try await store.commit(WriteBatch(messages: (1...5).map { message(Int64($0), createdAtMs: 1000) }))
            _ = try await store.apply([StatusUpdate(id: 1, status: .failed, errorCode: "E9", atMs: 2000)])
            await #expect(throws: StatsFoldInterrupted.self) { try await interruptedFold(store) }
            try await store.commit(WriteBatch(messages: (6...8).map { message(Int64($0), createdAtMs: 1000) }))
            _ = try await store.apply([StatusUpdate(id: 6, status: .expired, errorCode: "EXPIRED", atMs: 3000)])
            try await store.close()
            store = try await open()
            _ = try await store.apply([StatusUpdate(id: 2, status: .failed, errorCode: "E9", atMs: 4000)])
            let all = StatsFilter(fromMs: 0, toMs: Self.hour, account: "acme")
            let expected = ["": counts(submitted: 8, failed: 2, expired: 1)]
            #expect(try await rows(store, all, .total) == expected)
            #expect(
                try await store.statisticsErrors(all, limit: 10) == [
                    StatsError(code: "E9", count: 2), StatsError(code: "EXPIRED", count: 1),
                ]
            )
            // Folding again changes nothing a read says.
            try await store.foldStatistics()
            #expect(try await rows(store, all, .total) == expected)
            try await store.close()
        }
    }

    /// Folds running while messages are stored and fail, on both nodes of one PostgreSQL (each node folding
    /// often, at the same time as the other) or on one SQLite store: every accept and outcome counts once.
    @Test(arguments: StoreKind.allCases)
    func concurrentFoldsCountEachEventOnce(kind: StoreKind) async throws {
        let check: @Sendable (any MessageStore, any MessageStore) async throws -> Void = { a, b in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for node in [a, b] {
                    group.addTask { for _ in 0..<30 { try await node.foldStatistics() } }
                }
                for (i, node) in [a, b].enumerated() {
                    group.addTask {
                        for j in 0..<20 {
                            let base = Int64(i * 1000 + j * 10)
                            try await node.commit(
                                WriteBatch(messages: (1...5).map { message(base + Int64($0), createdAtMs: 1000) })
                            )
                            _ = try await node.apply([
                                StatusUpdate(id: base + 1, status: .failed, errorCode: "E1", atMs: 2000)
                            ])
                        }
                    }
                }
                try await group.waitForAll()
            }
            let all = StatsFilter(fromMs: 0, toMs: Self.hour, account: "acme")
            for node in [a, b] {
                #expect(try await rows(node, all, .total) == ["": counts(submitted: 200, failed: 40)])
                #expect(try await node.statisticsErrors(all, limit: 10) == [StatsError(code: "E1", count: 40)])
            }
        }
        switch kind {
        case .sqlite: try await withStore(.sqlite) { store, _ in try await check(store, store) }
        case .postgres: try await withTwoNodes { a, b in try await check(a, b) }
        }
    }
}
