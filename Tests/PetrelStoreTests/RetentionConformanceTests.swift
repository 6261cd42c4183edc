import Foundation
import PetrelCore
import PetrelStore
import Testing

/// Purging and redaction (the `Retention` role), run against every store implementation.
@Suite struct RetentionConformanceTests {
    /// Claims everything queued, marks `ids` sent in two parts each (single parts are not stored as parts), then gives them `status` at `at`.
    func finish(_ store: any MessageStore, _ ids: [Int64], _ status: MessageStatus, at: Int64) async throws {
        let claimed = try await store.claim(limit: 1000, nowMs: at, leaseMs: 60_000)
        var results = DispatchResults()
        results.sent = claimed.filter { ids.contains($0.id) }.map { m in
            SentRecord(
                id: m.id,
                channel: "c",
                carrierMessageId: "x\(m.id)",
                sentAtMs: at,
                parts: [1, 2].map { PartRecord(part: $0, total: 2, carrierId: "x\(m.id)-\($0)") }
            )
        }
        results.retry = claimed.map(\.id).filter { !ids.contains($0) }.map {
            RetryRecord(id: $0, atMs: at, notBeforeMs: 0, reason: "test")
        }
        try await store.record(results)
        let updates = ids.map {
            StatusUpdate(id: $0, status: status, errorCode: status == .delivered ? "" : "E", atMs: at)
        }
        #expect(try await store.apply(updates).count == ids.count)
    }

    @Test(arguments: StoreKind.allCases)
    func purgesFinalMessagesWithPartsEventsAndOutboxRowsOnly(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            try await store.putAccount(
                AccountRecord(name: "acme", receiptURL: "http://h/r", webhookSecret: "k", updatedAtMs: 1)
            )
            try await store.commit(
                WriteBatch(messages: (1...5).map { message($0) } + [message(6, account: "other")])
            )
            try await finish(store, [1, 6], .delivered, at: 5000)
            try await finish(store, [2], .failed, at: 5500)
            try await finish(store, [3], .delivered, at: 9000)
            // 4 stays queued, 5 is sent and waits for its receipt: neither is ever purged, however old.
            let claimed = try await store.claim(limit: 10, nowMs: 9500, leaseMs: 60_000)
            var sent = DispatchResults()
            sent.sent = [SentRecord(id: 5, channel: "c", carrierMessageId: "x5", sentAtMs: 9500)]
            sent.retry = claimed.map(\.id).filter { $0 != 5 }.map {
                RetryRecord(id: $0, atMs: 9500, notBeforeMs: 0, reason: "test")
            }
            try await store.record(sent)
            #expect(try await store.events(messageId: 2).count == 1)
            #expect(try await store.retentionAccounts() == ["acme", "other"])

            // One of the two old receipts is parked: both kinds go with their messages.
            let waiting = try await store.dueReceipts(account: "acme", nowMs: 6000, limit: 10)
            try await store.parkReceipts(
                ids: waiting.filter { $0.message.id == 2 }.map(\.id),
                error: "gone",
                nowMs: 6000
            )
            #expect(try await store.outboxCounts() == OutboxCounts(pending: 2, parked: 1))
            let due = try await store.purgeableCounts(account: "acme", finishedBeforeMs: 6000)
            // Message 2's events: its retry while 1 was finished, its failure, its receipt parked.
            #expect(due == PurgeCounts(messages: 2, parts: 4, events: 3, receipts: 2))
            #expect(try await store.purgeMessages(account: "acme", finishedBeforeMs: 6000, limit: 1).messages == 1)
            let rest = try await store.purgeMessages(account: "acme", finishedBeforeMs: 6000, limit: 10)
            #expect(rest.messages == 1)
            #expect(try await store.purgeMessages(account: "acme", finishedBeforeMs: 6000, limit: 10) == PurgeCounts())
            #expect(try await store.purgeOutbox(account: "acme", createdBeforeMs: 6000, limit: 10) == 2)
            #expect(try await store.outboxCounts() == OutboxCounts(pending: 1, parked: 0))

            for id in [1, 2] as [Int64] {
                #expect(try await store.message(id: id, account: "acme") == nil)
                #expect(try await store.parts(messageId: id).isEmpty)
                #expect(try await store.events(messageId: id).isEmpty)
            }
            #expect(try await store.message(id: 3, account: "acme")?.status == .delivered)
            #expect(try await store.parts(messageId: 3).count == 2)
            #expect(try await store.message(id: 6, account: "other")?.status == .delivered)
            // Far in the future: still only final messages go.
            let all = try await store.purgeMessages(account: "acme", finishedBeforeMs: .max, limit: 10)
            #expect(all.messages == 1)
            #expect(try await store.message(id: 4, account: "acme")?.status == .queued)
            #expect(try await store.message(id: 5, account: "acme")?.status == .sent)
            #expect(
                try await store.purgeableCounts(account: "acme", finishedBeforeMs: .max) == PurgeCounts(receipts: 1)
            )
        }
    }

    @Test(arguments: StoreKind.allCases)
    func redactsTextsOfFinalMessagesByAgeAndType(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            try await store.commit(
                WriteBatch(messages: [message(1, type: .otp), message(2), message(3, type: .otp), message(4)])
            )
            try await finish(store, [1, 2], .delivered, at: 5000)
            try await finish(store, [4], .delivered, at: 8000)
            let before = try #require(try await store.message(id: 1, account: "acme"))
            #expect(try await store.redactTexts(account: "acme", type: .otp, finishedBeforeMs: 9000, limit: 10) == 1)
            let redacted = try #require(try await store.message(id: 1, account: "acme"))
            #expect(redacted.text == "" && redacted.segments == before.segments && redacted.status == .delivered)
            // Queued OTP 3 keeps its text; so does the NOTIFY.
            #expect(try await store.message(id: 3, account: "acme")?.text == "text 3")
            #expect(try await store.message(id: 2, account: "acme")?.text == "text 2")
            #expect(try await store.redactTexts(account: "acme", type: .notify, finishedBeforeMs: 4000, limit: 10) == 0)
            #expect(try await store.redactTexts(account: "acme", type: .notify, finishedBeforeMs: 6000, limit: 10) == 1)
            #expect(try await store.message(id: 2, account: "acme")?.text == "")
            #expect(try await store.message(id: 4, account: "acme")?.text == "text 4")
            #expect(
                try await store.redactTexts(account: "other", type: .notify, finishedBeforeMs: .max, limit: 10) == 0
            )
            // A redacted message still goes when it is purged.
            #expect(try await store.purgeMessages(account: "acme", finishedBeforeMs: 6000, limit: 10).messages == 2)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func purgesSandboxInboxAndFinishedCampaigns(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            try await store.commit(WriteBatch(messages: [message(1), message(2), message(3, account: "other")]))
            _ = try await store.claim(limit: 10, nowMs: 100, leaseMs: 60_000)
            var results = DispatchResults()
            results.sent = [1, 2, 3].map {
                SentRecord(id: $0, channel: "sandbox", carrierMessageId: "s\($0)", sentAtMs: 100)
            }
            results.inbox = [(1, "acme", 100), (2, "acme", 900), (3, "other", 100)].map { id, account, at in
                SandboxEntry(
                    messageId: id,
                    account: account,
                    to: "85291234567",
                    from: "P",
                    text: "t",
                    segments: 1,
                    receivedAtMs: at,
                    outcome: "delivered"
                )
            }
            try await store.record(results)
            #expect(try await store.purgeSandbox(account: "acme", receivedBeforeMs: 500, limit: 10) == 1)
            #expect(try await store.sandboxMessages(account: "acme", to: nil, limit: 10).map(\.messageId) == [2])
            #expect(try await store.sandboxMessages(account: "other", to: nil, limit: 10).count == 1)

            func campaign(_ name: String, updatedAtMs: Int64) -> CampaignRecord {
                CampaignRecord(
                    account: "acme",
                    name: name,
                    text: "Hi",
                    type: .mkt,
                    from: "Petrel",
                    validitySeconds: nil,
                    taskId: "",
                    startAtMs: nil,
                    totalRows: 1,
                    validRows: 1,
                    invalidRows: 0,
                    parts: 1,
                    invalidReport: "",
                    createdAtMs: 10,
                    updatedAtMs: updatedAtMs
                )
            }
            let row = [CampaignRow(to: "85291234567", body: "Hi")]
            let done = try await store.createCampaign(campaign("done", updatedAtMs: 10), rows: row)
            let draft = try await store.createCampaign(campaign("draft", updatedAtMs: 10), rows: row)
            let young = try await store.createCampaign(campaign("young", updatedAtMs: 10), rows: row)
            #expect(
                try await store.setCampaignStatus(id: done, account: "acme", to: .cancelled, from: [.draft], nowMs: 20)
            )
            #expect(
                try await store.setCampaignStatus(id: young, account: "acme", to: .cancelled, from: [.draft], nowMs: 99)
            )
            for id in [done, young] {
                try await store.noteCampaignMessages(
                    id: id,
                    account: "acme",
                    taskId: "campaign-\(id)",
                    lowest: 100 * id,
                    highest: 100 * id + 9
                )
            }
            #expect(try await store.purgeCampaigns(account: "acme", updatedBeforeMs: 50, limit: 10) == 1)
            #expect(try await store.campaign(id: done, account: "acme") == nil)
            // Its outcome counters go with it.
            #expect(
                try await store.campaignOutcomes(ids: [done, young], account: "acme") == [young: CampaignOutcome()]
            )
            #expect(try await store.campaignInvalidReport(id: done, account: "acme") == nil)
            #expect(try await store.campaignRows(id: done, from: 0, limit: 10).isEmpty)
            #expect(try await store.campaigns(account: "acme").map(\.id).sorted() == [draft, young])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func purgesConversionReportsByAccountAndAge(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let reports = (1...5).map { i in
                ConversionRecord(
                    account: i == 5 ? "other" : "acme",
                    messageId: Int64(i),
                    to: "85291234567",
                    delivered: true,
                    conversionTimeMs: nil,
                    receivedAtMs: Int64(i) * 1000
                )
            }
            let rates = [1, 4].map {
                ConversionDataRecord(account: "acme", rate: 0.5, reportTimeMs: nil, receivedAtMs: Int64($0) * 1000)
            }
            try await store.commit(WriteBatch(conversions: reports, conversionData: rates))
            #expect(try await store.retentionAccounts() == ["acme", "other"])
            // Before 3.5 s: acme's reports 1-3 and its rate at 1 s; not the later ones, not another account's.
            #expect(try await store.purgeableCounts(account: "acme", finishedBeforeMs: 3500).conversions == 4)
            #expect(try await store.purgeConversions(account: "acme", receivedBeforeMs: 3500, limit: 2) == 3)
            #expect(try await store.purgeConversions(account: "acme", receivedBeforeMs: 3500, limit: 2) == 1)
            #expect(try await store.purgeConversions(account: "acme", receivedBeforeMs: 3500, limit: 2) == 0)
            #expect(try await store.conversions(account: "acme").map(\.messageId) == [4])
            #expect(try await store.conversionData(account: "acme").map(\.receivedAtMs) == [4000])
            #expect(try await store.conversions(account: "other").count == 1)
        }
    }

    @Test func twoNodesPurgingAtOnceDeleteEachMessageOnce() async throws {
        try await withTwoNodes { a, b in
            let ids = Array(Int64(1)...400)
            for chunk in stride(from: 0, to: ids.count, by: 100) {
                try await a.commit(WriteBatch(messages: ids[chunk..<chunk + 100].map { message($0) }))
            }
            try await finish(a, ids, .delivered, at: 5000)
            async let first = drain(a)
            async let second = drain(b)
            let (x, y) = try await (first, second)
            #expect(x.messages + y.messages == 400 && x.parts + y.parts == 800)
            #expect(try await a.purgeableCounts(account: "acme", finishedBeforeMs: .max) == PurgeCounts())
        }
    }

    private func drain(_ store: PostgresStore) async throws -> PurgeCounts {
        var total = PurgeCounts()
        while true {
            let batch = try await store.purgeMessages(account: "acme", finishedBeforeMs: 6000, limit: 7)
            if batch.messages == 0 { return total }
            total = total + batch
            await Task.yield()
        }
    }
}
