import Foundation
import PetrelCore
import PetrelStore
import Testing

/// The receipt outbox, run against every store implementation.
@Suite struct OutboxConformanceTests {
    /// Queued → sending → a final state, through the same calls the dispatcher makes.
    func finish(_ store: any MessageStore, _ ids: [Int64], _ status: MessageStatus, at: Int64) async throws {
        let claimed = try await store.claim(limit: 1000, nowMs: at, leaseMs: 60_000)
        var results = DispatchResults()
        results.sent = claimed.filter { ids.contains($0.id) }.map {
            SentRecord(
                id: $0.id,
                channel: "c",
                carrierMessageId: "x\($0.id)",
                sentAtMs: at,
                parts: [PartRecord(part: 1, total: 1, carrierId: "x\($0.id)")]
            )
        }
        try await store.record(results)
        try await store.apply(
            ids.map {
                StatusUpdate(id: $0, status: status, errorCode: status == .delivered ? "" : "UNDELIV", atMs: at + 1)
            }
        )
    }

    @Test(arguments: StoreKind.allCases)
    func finalStatesEnterTheOutboxOnlyForAccountsWithAURL(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            try await store.putAccount(
                AccountRecord(name: "acme", receiptURL: "http://127.0.0.1:9/r", webhookSecret: "s3cret", updatedAtMs: 1)
            )
            #expect(
                try await store.accounts() == [
                    AccountRecord(
                        name: "acme",
                        receiptURL: "http://127.0.0.1:9/r",
                        webhookSecret: "s3cret",
                        updatedAtMs: 1
                    )
                ]
            )
            try await store.commit(WriteBatch(messages: [message(1), message(2), message(3, account: "other")]))
            try await finish(store, [1, 3], .delivered, at: 5000)
            #expect(try await store.outboxCounts() == OutboxCounts(pending: 1, parked: 0))
            let due = try await store.dueReceipts(account: "acme", nowMs: 6000, limit: 10)
            #expect(due.map(\.message.id) == [1] && due[0].message.status == .delivered && due[0].attempts == 0)
            #expect(due[0].createdAtMs == 5001 && due[0].message.doneAtMs == 5001)
            // not due before it happened
            #expect(try await store.dueReceipts(account: "acme", nowMs: 5000, limit: 10).isEmpty)
            #expect(try await store.dueReceipts(account: "other", nowMs: 6000, limit: 10).isEmpty)
            // A later final state (a late receipt) is not reported again.
            try await store.apply([StatusUpdate(id: 1, status: .failed, errorCode: "X", atMs: 7000)])
            #expect(try await store.outboxCounts().pending == 1)
            try await store.receiptsPushed(ids: due.map(\.id), nowMs: 9000)
            #expect(try await store.outboxCounts() == OutboxCounts(pending: 0, parked: 0))
        }
    }

    @Test(arguments: StoreKind.allCases)
    func retriesParkingAndReplay(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            try await store.putAccount(
                AccountRecord(name: "acme", receiptURL: "http://h/r", webhookSecret: "k", updatedAtMs: 1)
            )
            var batch = WriteBatch(messages: [message(1), message(2), message(3)])
            batch.messages[2].taskId = "T9"
            try await store.commit(batch)
            try await finish(store, [1, 2, 3], .failed, at: 5000)
            let due = try await store.dueReceipts(account: "acme", nowMs: 6000, limit: 10)
            #expect(due.count == 3 && due.allSatisfy { $0.message.errorCode == "UNDELIV" })
            try await store.receiptsRetry([ReceiptRetry(id: due[0].id, atMs: 8000, nextAtMs: 9000, error: "HTTP 500")])
            try await store.parkReceipts(ids: [due[1].id], error: "gone", nowMs: 8000)
            let later = try await store.dueReceipts(account: "acme", nowMs: 8999, limit: 10)
            #expect(later.map(\.id) == [due[2].id])
            let retried = try await store.dueReceipts(account: "acme", nowMs: 9000, limit: 10)
            #expect(
                retried.first { $0.id == due[0].id }?.attempts == 1
                    && retried.first { $0.id == due[0].id }?.lastError == "HTTP 500"
            )
            // A push takes its receipts with a lease: not due for anyone else until it ends, taken only once.
            let leaseIds = Set(retried.map(\.id))
            #expect(try await store.leaseReceipts(ids: Array(leaseIds), nowMs: 9000, untilMs: 9500) == leaseIds)
            #expect(try await store.leaseReceipts(ids: Array(leaseIds), nowMs: 9000, untilMs: 9500).isEmpty)
            #expect(try await store.dueReceipts(account: "acme", nowMs: 9499, limit: 10).isEmpty)
            #expect(Set(try await store.dueReceipts(account: "acme", nowMs: 9500, limit: 10).map(\.id)) == leaseIds)
            let parked = try await store.parkedReceipts(account: "acme", limit: 10)
            #expect(parked.map(\.id) == [due[1].id] && parked[0].lastError == "gone" && parked[0].attempts == 1)
            #expect(try await store.parkedReceipts(account: "other", limit: 10).isEmpty)
            #expect(try await store.outboxCounts() == OutboxCounts(pending: 2, parked: 1))
            #expect(try await store.retryParked(account: nil, nowMs: 10_000) == 1)
            #expect(try await store.outboxCounts() == OutboxCounts(pending: 3, parked: 0))
            try await store.receiptsPushed(ids: due.map(\.id), nowMs: 9000)

            // Replay: by message, by task, by time; queued messages have nothing to report.
            try await store.commit(WriteBatch(messages: [message(4)]))
            // What a replay would touch is counted first, and the count is what it then does.
            #expect(try await store.replayableReceipts(ReceiptFilter(sinceMs: 5001)) == 3)
            #expect(try await store.replayableReceipts(ReceiptFilter(account: "other")) == 0)
            #expect(try await store.replayableReceipts(ReceiptFilter(messageId: 4)) == 0)
            #expect(try await store.replayReceipts(ReceiptFilter(messageId: 2), nowMs: 20_000) == 1)
            #expect(try await store.replayReceipts(ReceiptFilter(account: "acme", taskId: "T9"), nowMs: 20_000) == 1)
            #expect(try await store.replayReceipts(ReceiptFilter(sinceMs: 5001), nowMs: 20_000) == 3)
            #expect(try await store.replayReceipts(ReceiptFilter(sinceMs: 5002), nowMs: 20_000) == 0)
            #expect(try await store.replayReceipts(ReceiptFilter(messageId: 4), nowMs: 20_000) == 0)
            let replayed = try await store.dueReceipts(account: "acme", nowMs: 20_000, limit: 10)
            #expect(replayed.map(\.message.id) == [2, 3, 1, 2, 3] && replayed.allSatisfy { $0.createdAtMs == 20_000 })
        }
    }
}
