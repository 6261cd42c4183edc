import Foundation
import PetrelCore
import PetrelStore
import Testing

/// What the console and campaigns need from a store, run against every store implementation.
@Suite struct ConsoleConformanceTests {
    func campaign(account: String = "acme", rows: Int) -> CampaignRecord {
        CampaignRecord(
            account: account,
            name: "spring",
            text: "Hi ${name}",
            type: .mkt,
            from: "Petrel",
            validitySeconds: 600,
            taskId: "",
            startAtMs: nil,
            totalRows: rows + 1,
            validRows: rows,
            invalidRows: 1,
            parts: rows,
            invalidReport: "line 3: 1: bad",
            segmentsSummary: "1 part: \(rows)",
            createdAtMs: 10,
            updatedAtMs: 10
        )
    }

    @Test(arguments: StoreKind.allCases)
    func searchIsScopedToTheAccountAndFilters(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let base = MessageIDGenerator.firstId(atMs: 1_800_000_000_000)
            let t0 = MessageIDGenerator.timestampMs(of: base)
            try await store.commit(
                WriteBatch(messages: [
                    message(base + 1, to: "85291234567", createdAtMs: t0),
                    message(base + 2, to: "85291234568", createdAtMs: t0),
                    message(base + 3, to: "85291234567", account: "other", createdAtMs: t0),
                    message(MessageIDGenerator.firstId(atMs: t0 + 60_000), to: "85291234567", createdAtMs: t0 + 60_000),
                ])
            )
            var q = MessageQuery(account: "acme")
            #expect(try await store.searchMessages(q).count == 3)
            q.to = "85291234567"
            let found = try await store.searchMessages(q)
            #expect(found.map(\.account) == ["acme", "acme"] && found[0].id > found[1].id)  // newest first
            q.untilMs = t0 + 30_000
            #expect(try await store.searchMessages(q).map(\.id) == [base + 1])
            q.untilMs = nil
            q.sinceMs = t0 + 30_000
            #expect(try await store.searchMessages(q).count == 1)
            var part = MessageQuery(account: "acme")
            part.toContains = "9123"
            part.scanLimit = 1
            part.untilMs = t0 + 30_000  // the scan starts at Until, not at the newest message
            #expect(try await store.searchMessages(part).map(\.id) == [base + 2])
            var byStatus = MessageQuery(account: "acme")
            byStatus.status = .delivered
            #expect(try await store.searchMessages(byStatus).isEmpty)
            var byId = MessageQuery(account: "acme")
            byId.messageId = base + 3  // another account's message is not found
            #expect(try await store.searchMessages(byId).isEmpty)
            var byTask = MessageQuery(account: "acme")
            byTask.taskId = "nope"
            #expect(try await store.searchMessages(byTask).isEmpty)

            let series = try await store.statusSeries(account: "acme", sinceMs: t0, bucketMs: 60_000)
            #expect(
                series == [
                    StatusBucket(startMs: t0, counts: [.queued: 2]),
                    StatusBucket(startMs: t0 + 60_000, counts: [.queued: 1]),
                ]
            )
        }
    }

    @Test(arguments: StoreKind.allCases)
    func searchFindsPartsOfNumbersAndTextAndPagesByKey(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            var batch = (1...7).map { i in message(Int64(i), to: "8529123450\(i)") }
            batch[2].text = "Your CODE is 100%_off"
            batch.append(message(8, to: "85291234503", account: "other"))
            try await store.commit(WriteBatch(messages: batch))
            var q = MessageQuery(account: "acme")
            q.toContains = "234503"
            #expect(try await store.searchMessages(q).map(\.id) == [3])  // not the other account's
            q.toContains = "9123"
            q.limit = 3
            #expect(try await store.searchMessages(q).map(\.id) == [7, 6, 5])
            q.beforeId = 5
            #expect(try await store.searchMessages(q).map(\.id) == [4, 3, 2])  // older
            q.beforeId = nil
            q.afterId = 2
            #expect(try await store.searchMessages(q).map(\.id) == [5, 4, 3])  // newer, still newest first
            var text = MessageQuery(account: "acme")
            text.textContains = "code IS"
            #expect(try await store.searchMessages(text).map(\.id) == [3])  // ASCII case does not matter
            text.textContains = "100%_"
            #expect(try await store.searchMessages(text).map(\.id) == [3])
            text.textContains = "_"  // a wildcard only as itself
            #expect(try await store.searchMessages(text).map(\.id) == [3])
            // The bound: only the newest `scanLimit` messages past the key are read.
            var bounded = MessageQuery(account: "acme")
            bounded.toContains = "234501"
            bounded.scanLimit = 3
            #expect(try await store.searchMessages(bounded).isEmpty)
            bounded.beforeId = 4
            #expect(try await store.searchMessages(bounded).map(\.id) == [1])
            // Plain pages without a pattern.
            var page = MessageQuery(account: "acme")
            page.limit = 2
            page.beforeId = 3
            #expect(try await store.searchMessages(page).map(\.id) == [2, 1])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func partsShowWhatTheCarrierAccepted(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            try await store.commit(WriteBatch(messages: [message(1)]))
            _ = try await store.claim(limit: 10, nowMs: 2000, leaseMs: 60_000)
            var r = DispatchResults()
            r.sent = [
                SentRecord(
                    id: 1,
                    channel: "c",
                    carrierMessageId: "a",
                    sentAtMs: 2000,
                    parts: [
                        PartRecord(part: 1, total: 2, carrierId: "a"), PartRecord(part: 2, total: 2, carrierId: "b"),
                    ]
                )
            ]
            try await store.record(r)
            _ = try await store.applyReceipts([
                CarrierReceipt(channel: "c", carrierId: "b", status: .delivered, atMs: 3000)
            ])
            let parts = try await store.parts(messageId: 1)
            #expect(parts.map(\.carrierId) == ["a", "b"])
            #expect(
                parts.map(\.status) == [.sent, .delivered] && parts[1].doneAtMs == 3000 && parts[0].doneAtMs == nil
            )
        }
    }

    @Test(arguments: StoreKind.allCases)
    func campaignsKeepRowsProgressAndStatus(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let rows = (0..<5).map { CampaignRow(to: "8529123456\($0)", body: "Hi \($0)") }
            let id = try await store.createCampaign(campaign(rows: 5), rows: rows)
            #expect(try await store.campaign(id: id, account: "other") == nil)
            var stored = try #require(try await store.campaign(id: id, account: "acme"))
            #expect(stored.status == .draft && stored.validRows == 5 && stored.invalidReport == "line 3: 1: bad")
            #expect(try await store.campaignInvalidReport(id: id, account: "acme") == "line 3: 1: bad")
            #expect(stored.segmentsSummary == "1 part: 5")
            #expect(try await store.campaignInvalidReport(id: id, account: "other") == nil)
            #expect(try await store.runnableCampaigns(nowMs: 100).isEmpty)  // a draft is not sent
            #expect(
                try await store.setCampaignStatus(id: id, account: "other", to: .running, from: [.draft], nowMs: 20)
                    == false
            )
            #expect(try await store.setCampaignStatus(id: id, account: "acme", to: .running, from: [.draft], nowMs: 20))
            #expect(
                try await store.setCampaignStatus(id: id, account: "acme", to: .running, from: [.draft], nowMs: 20)
                    == false
            )
            #expect(try await store.runnableCampaigns(nowMs: 100).map(\.id) == [id])
            #expect(try await store.campaignRows(id: id, from: 0, limit: 3) == Array(rows[0..<3]))

            // A chunk's progress commits with its messages.
            try await store.commit(
                WriteBatch(
                    messages: [message(1), message(2), message(3)],
                    campaign: CampaignProgress(campaignId: id, from: 0, cursor: 3, accepted: 3, failed: 0, atMs: 30)
                )
            )
            stored = try #require(try await store.campaign(id: id, account: "acme"))
            #expect(stored.cursor == 3 && stored.accepted == 3 && stored.status == .running)
            // The same chunk again (another node picked it too): refused whole, its messages not stored.
            await #expect(throws: StoreError.self) {
                try await store.commit(
                    WriteBatch(
                        messages: [message(11), message(12), message(13)],
                        campaign: CampaignProgress(campaignId: id, from: 0, cursor: 3, accepted: 3, failed: 0, atMs: 31)
                    )
                )
            }
            #expect(try await store.message(id: 11, account: "acme") == nil)
            #expect(try await store.campaign(id: id, account: "acme")?.accepted == 3)
            #expect(try await store.campaignRows(id: id, from: stored.cursor, limit: 10) == Array(rows[3...]))

            #expect(
                try await store.setCampaignStatus(id: id, account: "acme", to: .paused, from: [.running], nowMs: 40)
            )
            #expect(try await store.runnableCampaigns(nowMs: 100).isEmpty)
            #expect(
                try await store.setCampaignStatus(id: id, account: "acme", to: .running, from: [.paused], nowMs: 50)
            )
            try await store.commit(
                WriteBatch(
                    messages: [message(4)],
                    campaign: CampaignProgress(campaignId: id, cursor: 5, accepted: 1, failed: 1, atMs: 60)
                )
            )
            stored = try #require(try await store.campaign(id: id, account: "acme"))
            #expect(stored.status == .done && stored.accepted == 4 && stored.failed == 1 && stored.updatedAtMs == 60)
            #expect(try await store.campaignRows(id: id, from: 0, limit: 10).isEmpty)  // rows go once sent
            #expect(
                try await store.setCampaignStatus(
                    id: id,
                    account: "acme",
                    to: .cancelled,
                    from: [.draft, .running, .paused],
                    nowMs: 70
                ) == false
            )
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aLongInvalidReportIsKeptWholeButRecordsCarryItsFirstLines(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            var c = campaign(rows: 0)
            c.invalidReport = (1...500).map { "line \($0): x: bad" }.joined(separator: "\n")
            let id = try await store.createCampaign(c, rows: [])
            let stored = try #require(try await store.campaign(id: id, account: "acme"))
            #expect(stored.invalidReport.split(separator: "\n").count == CampaignRecord.previewLines)
            #expect(stored.invalidReport.hasPrefix("line 1: x: bad\nline 2:"))
            #expect(try await store.campaignInvalidReport(id: id, account: "acme") == c.invalidReport)
        }
    }

    /// Rows keep their CSV values (not their texts), filled in when sent: the columns and the rendered size are
    /// kept with the campaign.
    @Test(arguments: StoreKind.allCases)
    func campaignRowsKeepValuesAndColumns(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            var c = campaign(rows: 2)
            c.columns = ["number", "name", "note"]
            c.renderedBytes = 1234
            let rows = [
                CampaignRow(to: "85291234560", body: CSV.line(["85291234560", "Ann, \"A\"", "line1\nline2"])),
                CampaignRow(to: "85291234561", body: CSV.line(["85291234561", "Bo", ""])),
            ]
            let id = try await store.createCampaign(c, rows: rows)
            let stored = try #require(try await store.campaign(id: id, account: "acme"))
            #expect(stored.columns == ["number", "name", "note"] && stored.renderedBytes == 1234)
            let template = try CampaignTemplate("Hi ${name} (${note})", columns: try #require(stored.columns))
            let back = try await store.campaignRows(id: id, from: 0, limit: 10)
            #expect(back.map { $0.text(template) } == ["Hi Ann, \"A\" (line1\nline2)", "Hi Bo ()"])
            // A campaign stored before (no columns): its rows are its texts.
            let old = try await store.createCampaign(
                campaign(rows: 1),
                rows: [CampaignRow(to: "85291234567", body: "done text")]
            )
            #expect(try await store.campaign(id: old, account: "acme")?.columns == nil)
            #expect(try await store.campaignRows(id: old, from: 0, limit: 1).map { $0.text(nil) } == ["done text"])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func scheduledCampaignsWaitForTheirStart(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            var c = campaign(rows: 1)
            c.startAtMs = 5000
            c.status = .running
            let id = try await store.createCampaign(c, rows: [CampaignRow(to: "85291234567", body: "x")])
            #expect(try await store.runnableCampaigns(nowMs: 4999).isEmpty)
            #expect(try await store.runnableCampaigns(nowMs: 5000).map(\.id) == [id])
            #expect(try await store.campaigns(account: "acme").map(\.id) == [id])
            #expect(try await store.campaigns(account: "other").isEmpty)
        }
    }
}
