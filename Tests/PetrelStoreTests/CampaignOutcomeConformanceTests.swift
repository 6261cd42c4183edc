import Foundation
import PetrelCore
import Testing

@testable import PetrelStore

/// A campaign's delivered / failed / expired counts on every backend: its messages (its account, its task id, ids
/// inside the span the runner noted) as they become final, exact before and after a fold, counted once, and none of
/// a message with the same task id outside the span or of another account.
@Suite struct CampaignOutcomeConformanceTests {
    func campaign(taskId: String) -> CampaignRecord {
        CampaignRecord(
            account: "acme",
            name: "spring",
            text: "Hi",
            type: .mkt,
            from: "Petrel",
            validitySeconds: 600,
            taskId: taskId,
            startAtMs: nil,
            totalRows: 5,
            validRows: 5,
            invalidRows: 0,
            parts: 5,
            invalidReport: "",
            segmentsSummary: "1 part: 5",
            createdAtMs: 10,
            updatedAtMs: 10
        )
    }

    func message(_ id: Int64, task: String, account: String = "acme", expiresAtMs: Int64? = nil) -> Message {
        var m = PetrelStoreTests.message(id, account: account, createdAtMs: 1000, expiresAtMs: expiresAtMs)
        m.taskId = task
        return m
    }

    @Test(arguments: StoreKind.allCases)
    func outcomesFollowTheCampaignsMessages(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let a = try await store.createCampaign(campaign(taskId: ""), rows: [])
            let b = try await store.createCampaign(campaign(taskId: "promo"), rows: [])
            #expect(try await store.campaignOutcomes(ids: [a, b], account: "acme").isEmpty)
            // The runner notes each chunk's ids before storing it: A's in two chunks, B's in one.
            try await store.noteCampaignMessages(
                id: a,
                account: "acme",
                taskId: "campaign-\(a)",
                lowest: 12,
                highest: 14
            )
            try await store.noteCampaignMessages(
                id: a,
                account: "acme",
                taskId: "campaign-\(a)",
                lowest: 10,
                highest: 11
            )
            try await store.noteCampaignMessages(id: b, account: "acme", taskId: "promo", lowest: 20, highest: 20)
            // Another account cannot note (or read) A.
            try await store.noteCampaignMessages(id: a, account: "other", taskId: "x", lowest: 1, highest: 99)
            try await store.commit(
                WriteBatch(messages: [
                    message(10, task: "campaign-\(a)"), message(11, task: "campaign-\(a)"),
                    message(12, task: "campaign-\(a)", account: "other"),
                    message(13, task: "campaign-\(a)", expiresAtMs: 2000), message(14, task: "campaign-\(a)"),
                    // Same task ids, outside the spans (an API send with the campaign's TaskId).
                    message(15, task: "campaign-\(a)"), message(20, task: "promo"), message(21, task: "promo"),
                ])
            )
            // 11 fails queued, 13 expires; the rest go out; 10, 12, 15 and 20 are delivered, 14 and 21 wait.
            _ = try await store.apply([StatusUpdate(id: 11, status: .failed, errorCode: "E1", atMs: 1500)])
            _ = try await store.expireQueued(nowMs: 3000)
            let claimed = try await store.claim(limit: 10, nowMs: 3000, leaseMs: 60_000)
            #expect(Set(claimed.map(\.id)) == [10, 12, 14, 15, 20, 21])
            var sent = DispatchResults()
            sent.sent = claimed.map {
                SentRecord(id: $0.id, channel: "smsc-a", carrierMessageId: "c\($0.id)", sentAtMs: 3000)
            }
            _ = try await store.record(sent)
            _ = try await store.apply(
                [10, 12, 15, 20].map { StatusUpdate(id: $0, status: .delivered, atMs: 4000) }
            )
            let expected: [Int64: CampaignOutcome] = [
                a: CampaignOutcome(delivered: 1, failed: 1, expired: 1), b: CampaignOutcome(delivered: 1),
            ]
            // Exact before a fold (what is not folded yet is counted on read), after it, and after another.
            #expect(try await store.campaignOutcomes(ids: [a, b], account: "acme") == expected)
            _ = try await store.foldStatistics()
            #expect(try await store.campaignOutcomes(ids: [a, b], account: "acme") == expected)
            _ = try await store.apply([StatusUpdate(id: 14, status: .expired, atMs: 5000)])
            _ = try await store.foldStatistics()
            _ = try await store.foldStatistics()
            #expect(
                try await store.campaignOutcomes(ids: [a, b], account: "acme") == [
                    a: CampaignOutcome(delivered: 1, failed: 1, expired: 2), b: CampaignOutcome(delivered: 1),
                ]
            )
            #expect(try await store.campaignOutcomes(ids: [b], account: "acme") == [b: CampaignOutcome(delivered: 1)])
            #expect(try await store.campaignOutcomes(ids: [a, b], account: "other").isEmpty)
        }
    }
}
