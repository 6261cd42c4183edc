import Foundation
import PetrelCore
import PetrelStore
import Testing

/// What only a store shared by several nodes does: nodes on one PostgreSQL database divide the work without
/// taking each other's.
@Suite struct SharedStoreTests {
    @Test func nodesTakeDistinctNumbersAndAGoneNodesNumberIsReused() async throws {
        try await withTwoNodes { a, b in
            let na = try await a.registerNode(name: "a", nowMs: 1000, staleMs: 60_000)
            let nb = try await b.registerNode(name: "b", nowMs: 1000, staleMs: 60_000)
            #expect(na != nb)
            #expect(try await a.registerNode(name: "a", nowMs: 2000, staleMs: 60_000) == na)
            // b keeps beating, a stops: a third node takes a's number once a is stale, not before.
            #expect(try await b.heartbeat(nowMs: 70_000, staleMs: 60_000) == 1)  // a last beat at 2000: gone
            let c = try await b.registerNode(name: "c", nowMs: 30_000, staleMs: 60_000)
            #expect(c != na && c != nb)
            #expect(try await b.registerNode(name: "d", nowMs: 70_000, staleMs: 60_000) == na)
            // a comes back to life: its number is someone else's now, and it is told so.
            await #expect(throws: StoreError.self) { _ = try await a.heartbeat(nowMs: 71_000, staleMs: 60_000) }
        }
    }

    @Test func concurrentClaimsAreDisjointAndARestartTakesBackOnlyItsOwn() async throws {
        try await withTwoNodes { a, b in
            _ = try await a.registerNode(name: "a", nowMs: 0, staleMs: 60_000)
            _ = try await b.registerNode(name: "b", nowMs: 0, staleMs: 60_000)
            try await a.commit(WriteBatch(messages: (1...2000).map { message(Int64($0)) }))
            var seen: [Int64] = []
            try await withThrowingTaskGroup(of: [Int64].self) { group in
                for store in [a, b, a, b] {
                    group.addTask {
                        var mine: [Int64] = []
                        while true {
                            let claimed = try await store.claim(limit: 100, nowMs: 5000, leaseMs: 60_000)
                            if claimed.isEmpty { return mine }
                            mine += claimed.map(\.id)
                        }
                    }
                }
                for try await ids in group { seen += ids }
            }
            #expect(seen.count == 2000 && Set(seen).count == 2000)
            let bHeld = try await b.counts()[.submitting] ?? 0
            let requeued = try await b.requeueOwnLeases()
            #expect(requeued > 0 && requeued < 2000)
            #expect(try await a.counts()[.submitting] == 2000 - requeued && bHeld == 2000)
        }
    }

    @Test func aNonceUsedOnOneNodeIsRefusedOnTheOther() async throws {
        try await withTwoNodes { a, b in
            try await a.commit(WriteBatch(nonce: NonceRecord(hash: 77, expiresAtMs: 10_000), messages: [message(1)]))
            await #expect(throws: StoreError.self) {
                try await b.commit(
                    WriteBatch(nonce: NonceRecord(hash: 77, expiresAtMs: 10_000), messages: [message(2)])
                )
            }
            #expect(try await b.message(id: 2, account: "acme") == nil)
            try await b.commit(WriteBatch(nonce: NonceRecord(hash: 78, expiresAtMs: 10_000), messages: [message(2)]))
            #expect(try await a.message(id: 2, account: "acme") != nil)
        }
    }

    @Test func aReceiptOnOneNodeFindsTheMessageTheOtherSubmitted() async throws {
        try await withTwoNodes { a, b in
            try await a.commit(WriteBatch(messages: [message(1)]))
            let claimed = try await a.claim(limit: 10, nowMs: 1000, leaseMs: 60_000)
            var r = DispatchResults()
            r.sent = claimed.map {
                SentRecord(
                    id: $0.id,
                    channel: "smsc",
                    carrierMessageId: "abc",
                    sentAtMs: 1000,
                    parts: [PartRecord(part: 1, total: 1, carrierId: "abc")]
                )
            }
            _ = try await a.record(r)
            let results = try await b.applyReceipts([
                CarrierReceipt(channel: "smsc", carrierId: "abc", status: .delivered, atMs: 2000)
            ])
            #expect(results.finished.map(\.id) == [1])
            #expect(try await a.message(id: 1, account: "acme")?.status == .delivered)
        }
    }

    @Test func bindSlotsKeepAChannelWithinItsTotalAcrossNodes() async throws {
        try await withTwoNodes { a, b in
            _ = try await a.registerNode(name: "a", nowMs: 0, staleMs: 60_000)
            _ = try await b.registerNode(name: "b", nowMs: 0, staleMs: 60_000)
            #expect(try await a.leaseBindSlots(channel: "c", want: 2, total: 3, nowMs: 1000, untilMs: 5000) == 2)
            #expect(try await b.leaseBindSlots(channel: "c", want: 2, total: 3, nowMs: 1000, untilMs: 5000) == 1)
            // Renewing keeps them; another channel is counted apart.
            #expect(try await a.leaseBindSlots(channel: "c", want: 2, total: 3, nowMs: 3000, untilMs: 7000) == 2)
            #expect(try await b.leaseBindSlots(channel: "d", want: 2, total: 3, nowMs: 3000, untilMs: 7000) == 2)
            // a stops renewing (it died): once its lease ends b takes its slots, up to what b wants.
            #expect(try await b.leaseBindSlots(channel: "c", want: 2, total: 3, nowMs: 6000, untilMs: 10_000) == 1)
            #expect(try await b.leaseBindSlots(channel: "c", want: 2, total: 3, nowMs: 7001, untilMs: 11_000) == 2)
            // a comes back: only the slot left over. b gives back what it no longer wants.
            #expect(try await a.leaseBindSlots(channel: "c", want: 2, total: 3, nowMs: 7002, untilMs: 11_000) == 1)
            #expect(try await b.leaseBindSlots(channel: "c", want: 1, total: 3, nowMs: 7003, untilMs: 11_000) == 1)
            #expect(try await a.leaseBindSlots(channel: "c", want: 2, total: 3, nowMs: 7004, untilMs: 11_000) == 2)
            try await a.releaseBindSlots()
            #expect(try await b.leaseBindSlots(channel: "c", want: 3, total: 3, nowMs: 7005, untilMs: 11_000) == 3)
        }
    }

    @Test func aKeyChangedOnOneNodeIsHonouredOnTheOther() async throws {
        try await withTwoNodes { a, b in
            try await a.putAccessKey(
                AccessKeyRecord(id: "k1", secret: "s1", account: "acme", name: "ops", createdAtMs: 1)
            )
            #expect(try await b.accessKey(id: "k1")?.enabled == true)  // b caches it
            #expect(try await b.accessKey(id: "k2") == nil)  // and that k2 does not exist
            #expect(try await a.setAccessKey(id: "k1", enabled: false))
            try await a.putAccessKey(
                AccessKeyRecord(id: "k2", secret: "s2", account: "acme", name: "new", createdAtMs: 2)
            )
            // b hears of it by notification, within its round trip (polled here for at most two seconds).
            let deadline = ContinuousClock.now + .seconds(2)
            while ContinuousClock.now < deadline {
                let k1 = try await b.accessKey(id: "k1")
                let k2 = try await b.accessKey(id: "k2")
                if k1?.enabled == false && k2 != nil { break }
                try await Task.sleep(for: .milliseconds(5))
            }
            #expect(try await b.accessKey(id: "k1")?.enabled == false)
            #expect(try await b.accessKey(id: "k2")?.secret == "s2")
            #expect(try await a.deleteAccessKey(id: "k2"))
            let gone = ContinuousClock.now + .seconds(2)
            while try await b.accessKey(id: "k2") != nil, ContinuousClock.now < gone {
                try await Task.sleep(for: .milliseconds(5))
            }
            #expect(try await b.accessKey(id: "k2") == nil)
        }
    }
}

/// `limits.perNumber` across nodes: the accepts of one number are serialised on the database.
@Suite struct SharedSendLimitTests {
    @Test func twentyConcurrentOTPsThroughTwoNodesAcceptExactlyTheDayLimit() async throws {
        try await withTwoNodes { a, b in
            let limits = NumberLimits(byType: [.otp: WindowCounts(day: 10)])
            let now: Int64 = 1_800_000_000_000
            let outcomes = try await withThrowingTaskGroup(of: ResponseCode?.self) { group in
                for i in 0..<20 {
                    let store = i % 2 == 0 ? a : b
                    group.addTask {
                        let batch = WriteBatch(
                            nonce: NonceRecord(hash: Int64(i + 1), expiresAtMs: now + 900_000),
                            messages: [message(Int64(i + 1), type: .otp, createdAtMs: now + Int64(i))]
                        )
                        return try await store.commit(batch, limits: limits)[0]
                    }
                }
                var all: [ResponseCode?] = []
                for try await o in group { all.append(o) }
                return all
            }
            #expect(outcomes.filter { $0 == nil }.count == 10)
            #expect(outcomes.compactMap { $0?.code } == Array(repeating: "isv.BUSINESS_LIMIT_DAY", count: 10))
            var stored = 0
            for id in Int64(1)...20 where try await a.message(id: id, account: "acme") != nil { stored += 1 }
            #expect(stored == 10)
        }
    }

    @Test func copiesOfOneRequestUnderLimitsThroughTwoNodesAtOnceStoreOnce() async throws {
        try await withTwoNodes { a, b in
            // A replay under limits (grouped on each node): one copy is stored, the others refused as used.
            let limits = NumberLimits(byType: [.otp: WindowCounts(day: 5)])
            let now: Int64 = 1_800_000_000_000
            let stored = await withTaskGroup(of: Bool.self) { group in
                for i in 0..<8 {
                    let store = i % 2 == 0 ? a : b
                    group.addTask {
                        let batch = WriteBatch(
                            nonce: NonceRecord(hash: 999, expiresAtMs: now + 900_000),
                            messages: [message(Int64(50 + i), to: "8529200\(1000 + i)", type: .otp, createdAtMs: now)]
                        )
                        do {
                            return try await store.commit(batch, limits: limits) == [nil]
                        } catch StoreError.nonceUsed {
                            return false
                        } catch {
                            Issue.record("\(error)")
                            return false
                        }
                    }
                }
                return await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
            }
            #expect(stored == 1)
            var found = 0
            for id in Int64(50)..<58 where try await a.message(id: id, account: "acme") != nil { found += 1 }
            #expect(found == 1)
        }
    }

    @Test func twentyConcurrentSendsToManyNumbersThroughTwoNodesStopAtTheCap() async throws {
        try await withTwoNodes { a, b in
            // 2 parts each, a day's cap of 21 parts: exactly 10 fit, whichever node takes them.
            let limits = SendLimits(caps: SendCaps([SendCap(account: "acme", day: 21)]))
            let now: Int64 = 1_800_000_000_000
            let outcomes = try await withThrowingTaskGroup(of: ResponseCode?.self) { group in
                for i in 0..<20 {
                    let store = i % 2 == 0 ? a : b
                    group.addTask {
                        var m = message(Int64(i + 1), to: "8529123\(4000 + i)", type: .notify, createdAtMs: now)
                        m.segments = 2
                        let batch = WriteBatch(
                            nonce: NonceRecord(hash: Int64(i + 1), expiresAtMs: now + 900_000),
                            messages: [m]
                        )
                        return try await store.commit(batch, limits: limits)[0]
                    }
                }
                var all: [ResponseCode?] = []
                for try await o in group { all.append(o) }
                return all
            }
            #expect(outcomes.filter { $0 == nil }.count == 10)
            #expect(outcomes.compactMap { $0?.code } == Array(repeating: "OUT_OF_SERVICE", count: 10))
            #expect(try await b.capCounters(account: "acme", nowMs: now).map(\.parts) == [20])
        }
    }

    @Test func twoNodesHaltingTheSamePairAtOnceMakeOneHaltAndCountEverySend() async throws {
        try await withTwoNodes { a, b in
            let limits = SendLimits(pumpingGuard: PumpingGuard(minSent: 1))
            let now: Int64 = 1_800_000_000_000
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<20 {
                    let store = i % 2 == 0 ? a : b
                    group.addTask {
                        let batch = WriteBatch(messages: [message(Int64(i + 1), type: .otp, createdAtMs: now)])
                        _ = try await store.commit(batch, limits: limits)
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await a.pumpingCounts(type: .otp, sinceMs: now - 1).map(\.sent) == [20])
            let halt = PumpingHalt(account: "acme", country: "HK", type: .otp, haltedAtMs: now, sent: 20, converted: 0)
            let made = try await withThrowingTaskGroup(of: Bool.self) { group in
                for i in 0..<10 {
                    group.addTask { try await (i % 2 == 0 ? a : b).haltPumping(halt, countedFromMs: nil) }
                }
                var made = 0
                for try await m in group where m { made += 1 }
                return made
            }
            #expect(made == 1)
            #expect(try await b.pumpingHalts(account: nil) == [halt])
        }
    }
}
