import Foundation
import PetrelCore
import Synchronization
import Testing

@testable import PetrelStore

/// Every store behaviour, run against every store implementation.
@Suite struct MessageStoreConformanceTests {
    @Test(arguments: StoreKind.allCases)
    func committedMessagesReadBackWhole(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            var m = message(42, expiresAtMs: 99_000)
            m.text = "Ünïcødé ~ 中文 😀"
            m.encoding = .ucs2
            m.segments = 2
            m.requestedChannel = "sandbox"
            try await store.commit(WriteBatch(nonce: NonceRecord(hash: -5, expiresAtMs: 5000), messages: [m]))
            let back = try #require(try await store.message(id: 42, account: "acme"))
            #expect(back == m)
            #expect(try await store.message(id: 42, account: "other") == nil)
            #expect(try await store.maxMessageId() == 42)
            #expect(try await store.liveNonces(nowMs: 4000) == [NonceRecord(hash: -5, expiresAtMs: 5000)])
            #expect(try await store.pruneNonces(nowMs: 6000) == 1)
            #expect(try await store.liveNonces(nowMs: 0).isEmpty)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func concurrentCommitsAllLand(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<200 {
                    group.addTask {
                        let batch = (0..<10).map { message(Int64(i * 10 + $0)) }
                        try await store.commit(
                            WriteBatch(nonce: NonceRecord(hash: Int64(i), expiresAtMs: 10), messages: batch)
                        )
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await store.counts()[.queued] == 2000)
        }
    }

    /// The RPC door's commit: `then` hears of each batch once it is durable, and of a failure (here a message id
    /// already stored) without its neighbours failing; the failed batch left nothing behind, its nonce included.
    @Test(arguments: StoreKind.allCases)
    func commitsWithoutATaskReportTheirOutcome(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            try await store.commit(WriteBatch(messages: [message(8)]))
            let outcomes = await withTaskGroup(of: String.self) { group in
                for i in 0..<20 {
                    group.addTask {
                        let nonce = NonceRecord(hash: Int64(i), expiresAtMs: 10)
                        return await withCheckedContinuation { c in
                            store.commit(WriteBatch(nonce: nonce, messages: [message(Int64(i + 1))])) { result in
                                switch result {
                                case .success: c.resume(returning: "ok")
                                case .failure: c.resume(returning: "failed")
                                }
                            }
                        }
                    }
                }
                var all: [String] = []
                for await o in group { all.append(o) }
                return all
            }
            #expect(outcomes.filter { $0 == "ok" }.count == 19)
            #expect(outcomes.filter { $0 == "failed" }.count == 1)
            #expect(try await store.counts()[.queued] == 20)  // 19 and the one that was there first
            #expect(
                try await store.liveNonces(nowMs: 0).map(\.hash).sorted()
                    == (0..<20).filter { $0 != 7 }.map { Int64($0) }
            )
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aFailingBatchDoesNotSinkItsNeighbours(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            try await store.commit(WriteBatch(messages: [message(1)]))
            await withTaskGroup(of: Bool.self) { group in
                for id in [Int64(1), 2, 3] {
                    group.addTask { (try? await store.commit(WriteBatch(messages: [message(id)]))) != nil }
                }
                var ok = 0
                for await result in group where result { ok += 1 }
                #expect(ok == 2)  // id 1 is a duplicate primary key
            }
            #expect(try await store.counts()[.queued] == 3)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func claimsByPriorityThenAgeAndOnlyDueOnes(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            try await store.commit(
                WriteBatch(messages: [
                    message(1, priority: .bulk, createdAtMs: 10),
                    message(2, priority: .normal, createdAtMs: 20),
                    message(3, priority: .urgent, createdAtMs: 30),
                    message(4, priority: .urgent, createdAtMs: 5),
                    message(5, priority: .urgent, createdAtMs: 5, notBeforeMs: 10_000),
                ])
            )
            let first = try await store.claim(limit: 3, nowMs: 100, leaseMs: 1000)
            #expect(first.map(\.id) == [4, 3, 2])
            #expect(first.allSatisfy { $0.status == .submitting })
            let rest = try await store.claim(limit: 10, nowMs: 100, leaseMs: 1000)
            #expect(rest.map(\.id) == [1])
            #expect(try await store.claim(limit: 10, nowMs: 100, leaseMs: 1000).isEmpty)
            #expect(try await store.claim(limit: 10, nowMs: 10_000, leaseMs: 1000).map(\.id) == [5])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func leasesExpireBackToTheQueue(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            try await store.commit(WriteBatch(messages: [message(1), message(2)]))
            #expect(try await store.claim(limit: 10, nowMs: 1000, leaseMs: 1000).count == 2)
            #expect(try await store.requeueExpiredLeases(nowMs: 1500) == 0)
            #expect(try await store.requeueExpiredLeases(nowMs: 2500) == 2)
            #expect(try await store.claim(limit: 10, nowMs: 2500, leaseMs: 1000).count == 2)
            try await store.requeue(ids: [1], notBeforeMs: 5000)
            #expect(try await store.claim(limit: 10, nowMs: 4000, leaseMs: 1000).isEmpty)
            #expect(try await store.claim(limit: 10, nowMs: 5000, leaseMs: 1000).map(\.id) == [1])
            // A restarted node takes back what it had claimed, whatever the leases say.
            #expect(try await store.requeueOwnLeases() == 2)
            #expect(try await store.claim(limit: 10, nowMs: 5000, leaseMs: 1000).count == 2)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aNodeKeepsItsNumberUnderItsName(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let n = try await store.registerNode(name: "a:8080", nowMs: 1000, staleMs: 60_000)
            #expect((0..<256).contains(n))
            #expect(try await store.heartbeat(nowMs: 2000, staleMs: 60_000) == 1)
            // One node alone holds what it asks for, within the channel's total.
            #expect(try await store.leaseBindSlots(channel: "c", want: 2, total: 3, nowMs: 2000, untilMs: 9000) == 2)
            #expect(try await store.leaseBindSlots(channel: "c", want: 4, total: 3, nowMs: 2000, untilMs: 9000) == 3)
            try await store.releaseBindSlots()
            #expect(try await store.registerNode(name: "a:8080", nowMs: 3000, staleMs: 60_000) == n)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func statusMovesFollowTheStateMachine(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            try await store.commit(WriteBatch(messages: [message(1), message(2)]))
            #expect(try await store.claim(limit: 10, nowMs: 1000, leaseMs: 1000).count == 2)
            let receipt = StatusUpdate(id: 1, status: .delivered, atMs: 900)
            var results = DispatchResults()
            results.sent = [
                SentRecord(id: 1, channel: "sandbox", carrierMessageId: "c1", sentAtMs: 100, scheduledReceipt: receipt)
            ]
            results.inbox = [
                SandboxEntry(
                    messageId: 1,
                    account: "acme",
                    to: "85291234567",
                    from: "P",
                    text: "t",
                    segments: 1,
                    receivedAtMs: 100,
                    outcome: "delivered"
                )
            ]
            try await store.record(results)
            var m = try #require(try await store.message(id: 1, account: "acme"))
            #expect(m.status == .sent && m.channel == "sandbox" && m.carrierMessageId == "c1" && m.sentAtMs == 100)
            #expect(try await store.applyDueReceipts(nowMs: 899, limit: 10).isEmpty)
            #expect(try await store.applyDueReceipts(nowMs: 900, limit: 10) == [receipt])
            #expect(try await store.applyDueReceipts(nowMs: 10_000, limit: 10).isEmpty)
            // Final states never change.
            #expect(try await store.apply([StatusUpdate(id: 1, status: .failed, errorCode: "X", atMs: 1000)]).isEmpty)
            m = try #require(try await store.message(id: 1, account: "acme"))
            #expect(m.status == .delivered && m.doneAtMs == 900)
            // The timeline is in the columns; events explain failures only.
            #expect(try await store.events(messageId: 1).isEmpty)
            #expect(try await store.sandboxMessages(to: "85291234567", limit: 10).count == 1)
            // Scoped to an account, another account's inbox is neither shown nor emptied.
            #expect(try await store.sandboxMessages(account: "acme", to: nil, limit: 10).count == 1)
            #expect(try await store.sandboxMessages(account: "other", to: nil, limit: 10).isEmpty)
            #expect(try await store.sandboxMessages(account: "other", to: "85291234567", limit: 10).isEmpty)
            #expect(try await store.clearSandbox(account: "other") == 0)
            // One number's conversation only (the console's "clear this number").
            #expect(try await store.clearSandbox(account: "acme", to: "6591234567") == 0)
            #expect(try await store.clearSandbox(account: "other", to: "85291234567") == 0)
            #expect(try await store.clearSandbox(account: "acme", to: "85291234567") == 1)
            #expect(try await store.sandboxMessages(account: "acme", to: nil, limit: 10).isEmpty)
            #expect(try await store.clearSandbox() == 0)
            // A receipt may arrive before the submit's response was recorded: submitting → final is allowed.
            #expect(
                try await store.apply([
                    StatusUpdate(id: 2, status: .failed, errorCode: "E", errorDescription: "d", atMs: 5)
                ]).count == 1
            )
            #expect(try await store.events(messageId: 2).map(\.detail) == ["E: d"])
        }
    }

    /// Many messages recorded sent in one call (SQLite splits them over several statements: 64, 16, 4 and 1 rows):
    /// each gets its own carrier id, time and schedule, and only those still being submitted change.
    @Test(arguments: StoreKind.allCases)
    func manySentAtOnceKeepTheirOwnValues(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            try await store.commit(WriteBatch(messages: (1...151).map { message(Int64($0)) }))
            #expect(try await store.claim(limit: 200, nowMs: 1000, leaseMs: 60_000).count == 151)
            _ = try await store.apply([StatusUpdate(id: 77, status: .failed, errorCode: "GONE", atMs: 1001)])
            var results = DispatchResults()
            results.sent = (1...151).map { (i: Int64) in
                SentRecord(
                    id: i,
                    channel: "c\(i % 3)",
                    carrierMessageId: "id-\(i)",
                    sentAtMs: 2000 + i,
                    scheduledReceipt: i % 2 == 0 ? StatusUpdate(id: i, status: .delivered, atMs: 5000 + i) : nil
                )
            }
            try await store.record(results)
            for i: Int64 in [1, 2, 63, 64, 65, 80, 81, 128, 144, 147, 148, 150, 151] {
                let m = try #require(try await store.message(id: i, account: "acme"))
                let sentAt: Int64 = 2000 + i
                #expect(m.status == .sent && m.sentAtMs == sentAt)
                #expect(m.channel == "c\(i % 3)" && m.carrierMessageId == "id-\(i)")
            }
            #expect(try await store.message(id: 77, account: "acme")?.status == .failed)
            let due = try await store.applyDueReceipts(nowMs: 10_000, limit: 1000)
            let evens: [Int64] = (1...151).filter { $0 % 2 == 0 }
            #expect(due.map(\.id) == evens)
            #expect(due.allSatisfy { $0.atMs == 5000 + $0.id })
        }
    }

    /// Scheduled receipts come due each with its own outcome: a failure keeps its code and reason (and an event),
    /// an expiry too; a message that reached a final state first keeps it and is not reported again.
    @Test(arguments: StoreKind.allCases)
    func dueReceiptsApplyTheirOwnOutcomes(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            try await store.commit(WriteBatch(messages: (1...4).map { message(Int64($0)) }))
            #expect(try await store.claim(limit: 10, nowMs: 1000, leaseMs: 60_000).count == 4)
            let outcomes = [
                StatusUpdate(
                    id: 1,
                    status: .failed,
                    errorCode: "UNDELIV",
                    errorDescription: "no such subscriber",
                    atMs: 1500
                ),
                StatusUpdate(
                    id: 2,
                    status: .expired,
                    errorCode: "EXPIRED",
                    errorDescription: "validity ended",
                    atMs: 1400
                ),
                StatusUpdate(id: 3, status: .delivered, atMs: 1600),
                StatusUpdate(id: 4, status: .delivered, atMs: 1300),
            ]
            var results = DispatchResults()
            results.sent = outcomes.map {
                SentRecord(
                    id: $0.id,
                    channel: "sandbox",
                    carrierMessageId: "s\($0.id)",
                    sentAtMs: 1100,
                    scheduledReceipt: $0
                )
            }
            try await store.record(results)
            // A carrier's receipt overtakes message 3's schedule.
            #expect(
                try await store.apply([StatusUpdate(id: 3, status: .failed, errorCode: "REJECTD", atMs: 1200)]).count
                    == 1
            )
            #expect(try await store.applyDueReceipts(nowMs: 1450, limit: 10) == [outcomes[3], outcomes[1]])
            #expect(try await store.applyDueReceipts(nowMs: 2000, limit: 10) == [outcomes[0]])
            #expect(try await store.applyDueReceipts(nowMs: 3000, limit: 10).isEmpty)
            let failed = try #require(try await store.message(id: 1, account: "acme"))
            #expect(failed.status == .failed && failed.errorCode == "UNDELIV" && failed.doneAtMs == 1500)
            #expect(try await store.events(messageId: 1).map(\.detail) == ["UNDELIV: no such subscriber"])
            #expect(try await store.events(messageId: 2).map(\.detail) == ["EXPIRED: validity ended"])
            let overtaken = try #require(try await store.message(id: 3, account: "acme"))
            #expect(overtaken.status == .failed && overtaken.errorCode == "REJECTD" && overtaken.doneAtMs == 1200)
            #expect(try await store.counts() == [.delivered: 1, .failed: 2, .expired: 1])
        }
    }

    /// Claiming with a channel that answers at once (the sandbox): what it sends is recorded sent in the same
    /// call and not returned; the rest is claimed as usual; a full round is still reported as full.
    @Test(arguments: StoreKind.allCases)
    func claimingSendsWhatAnInstantChannelTakes(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            try await store.commit(WriteBatch(messages: (1...5).map { message(Int64($0), createdAtMs: Int64($0)) }))
            let offered = Mutex<[Int64]>([])
            let (claimed, sentNow) = try await store.claim(limit: 4, nowMs: 1000, leaseMs: 60_000) { messages in
                offered.withLock { $0 = messages.map(\.id) }
                var r = DispatchResults()
                for m in messages where m.id % 2 == 1 {
                    r.sent.append(
                        SentRecord(
                            id: m.id,
                            channel: "sandbox",
                            carrierMessageId: "sandbox-\(m.id)",
                            sentAtMs: 1000,
                            scheduledReceipt: StatusUpdate(id: m.id, status: .delivered, atMs: 1300)
                        )
                    )
                    r.inbox.append(
                        SandboxEntry(
                            messageId: m.id,
                            account: m.account,
                            to: m.to,
                            from: m.from,
                            text: m.text,
                            segments: 1,
                            receivedAtMs: 1000,
                            outcome: "delivered"
                        )
                    )
                }
                // only sent/inbox are read
                r.failed = [StatusUpdate(id: 2, status: .failed, errorCode: "IGNORED", atMs: 1000)]
                return r
            }
            #expect(offered.withLock { $0 } == [1, 2, 3, 4])
            #expect(sentNow == 2)
            #expect(claimed.map(\.id) == [2, 4])
            #expect(claimed.allSatisfy { $0.status == .submitting })
            for id: Int64 in [1, 3] {
                let m = try #require(try await store.message(id: id, account: "acme"))
                #expect(
                    m.status == .sent && m.channel == "sandbox" && m.carrierMessageId == "sandbox-\(id)"
                        && m.sentAtMs == 1000
                )
            }
            #expect(try await store.message(id: 2, account: "acme")?.status == .submitting)
            #expect(try await store.message(id: 5, account: "acme")?.status == .queued)
            #expect(try await store.sandboxMessages(to: nil, limit: 10).map(\.messageId).sorted() == [1, 3])
            // Nothing is claimed twice; the scheduled receipts come due as for any sent message.
            let next = try await store.claim(limit: 10, nowMs: 1000, leaseMs: 60_000) { _ in DispatchResults() }
            #expect(next.claimed.map(\.id) == [5] && next.sentNow == 0)
            #expect(try await store.applyDueReceipts(nowMs: 1300, limit: 10).map(\.id).sorted() == [1, 3])
            #expect(try await store.counts() == [.delivered: 2, .submitting: 3])
        }
    }

    /// Many changes in one call (set-based on SQLite): each row only from the states its target allows, a message
    /// named twice changed in order, texts with quotes, backslashes and control characters kept as they are.
    @Test(arguments: StoreKind.allCases)
    func batchedChangesApplyRowByRow(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            try await store.commit(WriteBatch(messages: (1...6).map { message(Int64($0)) }))
            #expect(try await store.claim(limit: 4, nowMs: 1000, leaseMs: 60_000).map(\.id) == [1, 2, 3, 4])
            var results = DispatchResults()
            results.sent = [1, 2].map {
                SentRecord(id: $0, channel: "c", carrierMessageId: "x\($0)", sentAtMs: 100 + $0)
            }
            try await store.record(results)
            let odd = "say \"hi\" \\ \u{1}\n\t ünïcødé 🚀"
            let applied = try await store.apply([
                StatusUpdate(id: 1, status: .delivered, atMs: 200),  // sent → delivered
                // submitting → failed
                StatusUpdate(id: 3, status: .failed, errorCode: "E\"1", errorDescription: odd, atMs: 201),
                StatusUpdate(id: 5, status: .delivered, atMs: 202),  // queued → delivered: refused
                StatusUpdate(id: 2, status: .delivered, atMs: 203),
                StatusUpdate(id: 2, status: .failed, errorCode: "LATE", atMs: 204),  // final already: refused
                StatusUpdate(id: 4, status: .queued, atMs: 205),  // submitting → queued
                StatusUpdate(id: 4, status: .submitting, atMs: 206),  // then claimed again
            ])
            #expect(applied.map(\.id) == [1, 3, 2, 4, 4])
            let m1 = try #require(try await store.message(id: 1, account: "acme"))
            #expect(m1.status == .delivered && m1.doneAtMs == 200 && m1.sentAtMs == 101)
            let m3 = try #require(try await store.message(id: 3, account: "acme"))
            #expect(m3.status == .failed && m3.errorCode == "E\"1" && m3.errorDescription == odd && m3.doneAtMs == 201)
            #expect(try await store.events(messageId: 3).map(\.detail) == ["E\"1: \(odd)"])
            #expect(try await store.message(id: 5, account: "acme")?.status == .queued)
            let m2 = try #require(try await store.message(id: 2, account: "acme"))
            #expect(m2.status == .delivered && m2.doneAtMs == 203 && m2.errorCode == "")
            #expect(try await store.message(id: 4, account: "acme")?.status == .submitting)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func queuedMessagesExpire(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            try await store.commit(
                WriteBatch(messages: [message(1, expiresAtMs: 500), message(2, expiresAtMs: 5000), message(3)])
            )
            let expired = try await store.expireQueued(nowMs: 1000)
            #expect(expired.map(\.id) == [1])
            let m = try #require(try await store.message(id: 1, account: "acme"))
            #expect(m.status == .expired && m.errorCode == "EXPIRED" && m.doneAtMs == 1000)
            #expect(try await store.claim(limit: 10, nowMs: 1000, leaseMs: 10).map(\.id) == [2, 3])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func accessKeysAndTemplates(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let key = AccessKeyRecord(
                id: "LTAIx",
                secret: "s3cr3t-value",
                account: "acme",
                name: "n",
                policy: "{}",
                createdAtMs: 1
            )
            try await store.putAccessKey(key)
            #expect(try await store.accessKey(id: "LTAIx") == key)
            #expect(try await store.setAccessKey(id: "LTAIx", enabled: false))
            #expect(try await store.accessKey(id: "LTAIx")?.enabled == false)
            #expect(try await !store.setAccessKey(id: "nope", enabled: false))
            #expect(try await store.accessKeys().count == 1)
            #expect(try await store.deleteAccessKey(id: "LTAIx"))
            #expect(try await store.accessKey(id: "LTAIx") == nil)

            let t = TemplateRecord(account: "acme", code: "SMS_1", text: "Hi ${name}", createdAtMs: 1)
            try await store.putTemplate(t)
            #expect(try await store.template(account: "acme", code: "SMS_1") == t)
            #expect(try await store.template(account: "other", code: "SMS_1") == nil)
            #expect(try await store.templates(account: nil) == [t])
            #expect(try await store.deleteTemplate(account: "acme", code: "SMS_1"))
            #expect(try await store.templates(account: "acme").isEmpty)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func conversions(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let c = ConversionRecord(
                account: "acme",
                messageId: 7,
                to: "85291234567",
                delivered: true,
                conversionTimeMs: 5,
                receivedAtMs: 6
            )
            let d = ConversionDataRecord(account: "acme", rate: 0.25, reportTimeMs: nil, receivedAtMs: 6)
            try await store.commit(WriteBatch(conversions: [c], conversionData: [d]))
            #expect(try await store.conversions(account: "acme") == [c])
            #expect(try await store.conversionData(account: "acme") == [d])
            #expect(try await store.conversions(account: "other").isEmpty)
        }
    }
}

@Suite struct SQLiteStoreTests {
    @Test func durableSettingsAndEncryptedSecrets() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("petrel-sqlite-\(UUID().uuidString)")
            .path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try SQLiteStore(directory: dir, secrets: try SecretBox(key: Array(repeating: 1, count: 32)))
        #expect(try store.synchronousLevel() == 1)  // NORMAL: WALSync syncs the log before anyone resumes
        #expect(try store.journalMode() == "wal")
        try await store.putAccessKey(
            AccessKeyRecord(id: "k", secret: "plain-secret-xyz", account: "a", name: "n", createdAtMs: 0)
        )
        try await store.close()
        var bytes = Data()
        for f in try FileManager.default.contentsOfDirectory(atPath: dir) {
            bytes += try Data(contentsOf: URL(fileURLWithPath: dir).appendingPathComponent(f))
        }
        #expect(bytes.range(of: Data("plain-secret-xyz".utf8)) == nil)

        let wrongKey = try SQLiteStore(directory: dir, secrets: try SecretBox(key: Array(repeating: 2, count: 32)))
        await #expect(throws: (any Error).self) { try await wrongKey.accessKey(id: "k") }
        try await wrongKey.close()
    }

    /// `petrel keys` runs in its own process on the server's data directory: a key it adds, disables or deletes
    /// is honoured by the server's next lookup, cached answers ("no such key" included) notwithstanding.
    @Test func keyChangesFromAnotherProcessAreSeenAtOnce() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("petrel-sqlite-\(UUID().uuidString)")
            .path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let secrets = try SecretBox(key: Array(repeating: 1, count: 32))
        let server = try SQLiteStore(directory: dir, secrets: secrets)
        let cli = try SQLiteStore(directory: dir, secrets: secrets)
        try await cli.putAccessKey(AccessKeyRecord(id: "k1", secret: "s1", account: "a", name: "n", createdAtMs: 0))
        for _ in 0..<3 {
            #expect(try await server.accessKey(id: "k1")?.enabled == true)
            #expect(try await server.accessKey(id: "k2") == nil)
        }
        #expect(try await cli.setAccessKey(id: "k1", enabled: false))
        #expect(try await server.accessKey(id: "k1")?.enabled == false)
        try await cli.putAccessKey(AccessKeyRecord(id: "k2", secret: "s2", account: "a", name: "n", createdAtMs: 0))
        #expect(try await server.accessKey(id: "k2")?.secret == "s2")
        #expect(try await cli.deleteAccessKey(id: "k2"))
        #expect(try await server.accessKey(id: "k2") == nil)
        try await cli.close()
        // A process started later shares the same stamp.
        let later = try SQLiteStore(directory: dir, secrets: secrets)
        #expect(try await server.accessKey(id: "k1")?.enabled == false)
        #expect(try await later.setAccessKey(id: "k1", enabled: true))
        #expect(try await server.accessKey(id: "k1")?.enabled == true)
        try await later.close()
        try await server.close()
    }

    /// A commit returns only after the log was synced: one commit at a time, each sees a sync it did not see
    /// before it started (a writer that answered first and synced later would return with the count unchanged).
    @Test func commitsReturnOnlyAfterTheLogIsSynced() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("petrel-sqlite-\(UUID().uuidString)")
            .path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try SQLiteStore(directory: dir, secrets: try SecretBox(key: Array(repeating: 1, count: 32)))
        for i in 1...50 {
            let before = store.logSyncs
            try await store.commit(WriteBatch(messages: [message(Int64(i))]))
            #expect(store.logSyncs > before)
        }
        // Concurrent commits share syncs.
        let before = store.logSyncs
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 51...250 { group.addTask { try await store.commit(WriteBatch(messages: [message(Int64(i))])) } }
            try await group.waitForAll()
        }
        #expect(store.logSyncs - before < 200)
        #expect(try await store.counts()[.queued] == 250)
        try await store.close()
    }

    @Test func masterKeyFileIsCreatedPrivateAndReused() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("petrel-mk-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = try SecretBox.loadMasterKey(dataDir: dir, environment: [:])
        let b = try SecretBox.loadMasterKey(dataDir: dir, environment: [:])
        #expect(try b.open(a.seal("x")) == "x")
        let attributes = try FileManager.default.attributesOfItem(atPath: dir + "/master.key")
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let env = try SecretBox.loadMasterKey(
            dataDir: dir,
            environment: ["PETREL_MASTER_KEY": String(repeating: "ab", count: 32)]
        )
        #expect(throws: (any Error).self) { try env.open(a.seal("x")) }
        #expect(throws: (any Error).self) {
            try SecretBox.loadMasterKey(dataDir: dir, environment: ["PETREL_MASTER_KEY": "short"])
        }
    }
}

@Suite struct PartsAndReceiptsConformanceTests {
    func sent(
        _ store: any MessageStore,
        _ ids: [Int64],
        parts: Int = 1,
        channel: String = "smpp",
        carrierId: (Int64, Int) -> String
    ) async throws {
        try await store.commit(
            WriteBatch(
                messages: ids.map {
                    var m = message($0)
                    m.segments = parts
                    return m
                }
            )
        )
        _ = try await store.claim(limit: 100, nowMs: 1000, leaseMs: 60_000)
        var results = DispatchResults()
        results.sent = ids.map { id in
            SentRecord(
                id: id,
                channel: channel,
                carrierMessageId: carrierId(id, 1),
                sentAtMs: 1100,
                parts: (1...parts).map { PartRecord(part: $0, total: parts, carrierId: carrierId(id, $0)) }
            )
        }
        try await store.record(results)
    }

    @Test(arguments: StoreKind.allCases)
    func chanceMatchesAmongLostCopiesAreNotTakenForAReading(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            // Twenty messages with decimal carrier ids; receipts of copies whose submit_sm_resp was lost name ids
            // Petrel never stored, and three of those happen to be hex spellings of stored ids.
            try await sent(store, Array(1...20)) { id, _ in String(id) }
            var orphans = ["a", "b", "c"].map {
                CarrierReceipt(channel: "smpp", carrierId: $0, status: .failed, atMs: 2000)
            }
            orphans += (1...10).map {
                CarrierReceipt(channel: "smpp", carrierId: "lost\($0)", status: .delivered, atMs: 2000)
            }
            #expect(try await store.applyReceipts(orphans).orphaned == 13)
            let r = try await store.resolveOrphans(beforeMs: 3000)
            #expect(r.matched == 0 && r.readings.isEmpty)
            #expect(try await store.counts()[.sent] == 20)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func receiptsMatchAcrossIdFormats(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            // The carrier answered submit_sm with hex ids and leading zeros; its receipts quote decimal.
            try await sent(store, [1, 2]) { id, _ in id == 1 ? "000A1" : "FF" }
            // Unknown reading: only the same form matches at once; the others wait as orphans.
            var r = try await store.applyReceipts([
                CarrierReceipt(channel: "smpp", carrierId: "161", status: .delivered, atMs: 2000),
                CarrierReceipt(channel: "smpp", carrierId: "00a1", status: .delivered, atMs: 2000),
            ])
            #expect(r.matched == 1 && r.orphaned == 1)
            #expect(try await store.resolveOrphans(beforeMs: 2000).matched == 0)  // too young to reinterpret
            r = try await store.resolveOrphans(beforeMs: 2001)
            #expect(r.matched == 1 && r.readings["smpp"]?[.decimalForHex] == 1)  // a duplicate: nothing new finishes
            // A known reading matches at once.
            r = try await store.applyReceipts([
                CarrierReceipt(
                    channel: "smpp",
                    carrierId: "255",
                    status: .failed,
                    errorCode: "UNDELIV",
                    atMs: 2000,
                    reading: .decimalForHex
                ),
                CarrierReceipt(
                    channel: "other",
                    carrierId: "161",
                    status: .delivered,
                    atMs: 2000,
                    reading: .decimalForHex
                ),
            ])
            #expect(r.matched == 1 && r.orphaned == 1)
            #expect(r.finished.map(\.id) == [2])
            #expect(try await store.message(id: 1, account: "acme")?.status == .delivered)
            let failed = try #require(try await store.message(id: 2, account: "acme"))
            #expect(failed.status == .failed && failed.errorCode == "UNDELIV")
            // A duplicate receipt changes nothing.
            r = try await store.applyReceipts([
                CarrierReceipt(channel: "smpp", carrierId: "a1", status: .failed, atMs: 3000)
            ])
            #expect(r.matched == 1 && r.finished.isEmpty)
            #expect(try await store.message(id: 1, account: "acme")?.status == .delivered)
        }
    }

    /// One batch of receipts (looked up and applied together on SQLite) behaves as if applied one by one.
    @Test(arguments: StoreKind.allCases)
    func aBatchOfReceiptsActsAsOneByOne(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            try await sent(store, [1, 2, 3]) { id, _ in "c\(id)" }
            try await sent(store, [4]) { _, _ in "c1" }  // the carrier reused message 1's id
            try await sent(store, [5], parts: 2) { id, part in "c\(id)-\(part)" }
            let r = try await store.applyReceipts([
                CarrierReceipt(channel: "smpp", carrierId: "c1", status: .delivered, atMs: 2000),
                CarrierReceipt(channel: "smpp", carrierId: "c2", status: .failed, errorCode: "UNDELIV", atMs: 2001),
                // too late: failed stays
                CarrierReceipt(channel: "smpp", carrierId: "c2", status: .delivered, atMs: 2002),
                CarrierReceipt(channel: "smpp", carrierId: "nobody", status: .delivered, atMs: 2003),
                CarrierReceipt(channel: "smpp", carrierId: "c5-1", status: .delivered, atMs: 2004),
                CarrierReceipt(channel: "smpp", carrierId: "c5-2", status: .delivered, atMs: 2005),
                // another channel's id
                CarrierReceipt(channel: "other", carrierId: "c3", status: .delivered, atMs: 2006),
            ])
            #expect(r.matched == 5 && r.orphaned == 2)
            #expect(Set(r.finished.map(\.id)) == [1, 2, 5])
            #expect(try await store.message(id: 1, account: "acme")?.status == .delivered)
            #expect(try await store.message(id: 4, account: "acme")?.status == .sent)  // the oldest holder took it
            let failed = try #require(try await store.message(id: 2, account: "acme"))
            #expect(failed.status == .failed && failed.errorCode == "UNDELIV" && failed.doneAtMs == 2001)
            #expect(try await store.events(messageId: 2).count == 1)
            #expect(try await store.message(id: 3, account: "acme")?.status == .sent)
            #expect(try await store.message(id: 5, account: "acme")?.status == .delivered)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func multipartMessagesWaitForEveryPart(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            try await sent(store, [7, 8], parts: 3) { id, part in "\(id)-\(part)" }
            var r = try await store.applyReceipts([
                CarrierReceipt(channel: "smpp", carrierId: "7-1", status: .delivered, atMs: 2000),
                CarrierReceipt(channel: "smpp", carrierId: "7-2", status: .delivered, atMs: 2000),
                CarrierReceipt(channel: "smpp", carrierId: "8-2", status: .failed, errorCode: "REJECTD", atMs: 2000),
            ])
            #expect(r.finished.map(\.id) == [8])
            #expect(try await store.message(id: 7, account: "acme")?.status == .sent)
            #expect(try await store.message(id: 8, account: "acme")?.status == .failed)
            r = try await store.applyReceipts([
                CarrierReceipt(channel: "smpp", carrierId: "7-3", status: .delivered, atMs: 2500)
            ])
            #expect(r.finished == [StatusUpdate(id: 7, status: .delivered, atMs: 2500)])
            #expect(try await store.acceptedParts(messageIds: [7, 9]) == [7: [1, 2, 3]])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func receiptsThatOvertakeTheirSubmitResponseAreAdopted(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let early = try await store.applyReceipts([
                CarrierReceipt(channel: "smpp", carrierId: "X9", status: .delivered, atMs: 1050)
            ])
            #expect(early.orphaned == 1)
            try await sent(store, [5]) { _, _ in "x9" }
            let m = try #require(try await store.message(id: 5, account: "acme"))
            #expect(m.status == .delivered && m.doneAtMs == 1050)
            #expect(try await store.dropOrphanReceipts(beforeMs: .max) == 0)
            _ = try await store.applyReceipts([
                CarrierReceipt(channel: "smpp", carrierId: "nobody", status: .delivered, atMs: 1)
            ])
            #expect(try await store.dropOrphanReceipts(beforeMs: 10) == 1)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func partialAcceptanceAndRetries(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            try await store.commit(WriteBatch(messages: [message(3)]))
            _ = try await store.claim(limit: 10, nowMs: 1000, leaseMs: 60_000)
            var results = DispatchResults()
            results.acceptedParts = [
                SentRecord(
                    id: 3,
                    channel: "smpp",
                    carrierMessageId: "p1",
                    sentAtMs: 1000,
                    parts: [PartRecord(part: 1, total: 2, carrierId: "p1")]
                )
            ]
            results.retry = [RetryRecord(id: 3, atMs: 1000, notBeforeMs: 5000, reason: "throttled")]
            try await store.record(results)
            #expect(try await store.message(id: 3, account: "acme")?.status == .queued)
            #expect(try await store.acceptedParts(messageIds: [3]) == [3: [1]])
            #expect(try await store.claim(limit: 10, nowMs: 4999, leaseMs: 10).isEmpty)
            #expect(try await store.claim(limit: 10, nowMs: 5000, leaseMs: 10).map(\.id) == [3])
        }
    }
}

struct ValuesListTests {
    @Test func rowsAreSplitIntoTheListedStatementSizes() {
        #expect(ValuesList.chunks(0) == [])
        #expect(ValuesList.chunks(3) == [1, 1, 1])
        #expect(ValuesList.chunks(150) == [64, 64, 16, 4, 1, 1])
        for n in 0...300 {
            let c = ValuesList.chunks(n)
            #expect(c.reduce(0, +) == n)
            #expect(c.allSatisfy(ValuesList.chunkSizes.contains))
            #expect(c.count <= n / 64 + 9)
        }
        #expect(ValuesList.placeholders(rows: 2, columns: 3) == "(?,?,?),(?,?,?)")
    }
}
