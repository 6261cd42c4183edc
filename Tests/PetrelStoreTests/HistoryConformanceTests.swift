import Foundation
import PetrelCore
import PetrelStore
import Testing

/// A message's whole history (`MessageHistory`), run against every store implementation: what the rows hold
/// merged with the events recorded for what they do not (retries, lease requeues, receipt pushes).
@Suite struct HistoryConformanceTests {
    typealias K = TimelineEntry.Kind

    func sent(_ id: Int64, at: Int64, parts: Int = 1, channel: String = "smpp") -> SentRecord {
        SentRecord(
            id: id,
            channel: channel,
            carrierMessageId: "c\(id)-1",
            sentAtMs: at,
            parts: (1...parts).map { PartRecord(part: $0, total: parts, carrierId: "c\(id)-\($0)") }
        )
    }

    func timeline(_ store: any MessageStore, _ id: Int64) async throws -> [TimelineEntry] {
        try #require(try await store.history(messageId: id, account: "acme")).entries
    }

    @Test(arguments: StoreKind.allCases)
    func singlePartDeliveredIsDerivedFromTheRowWithoutEvents(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            try await store.commit(WriteBatch(messages: [message(1)]))
            _ = try await store.claim(limit: 10, nowMs: 1100, leaseMs: 60_000)
            var r = DispatchResults()
            r.sent = [sent(1, at: 1200)]
            try await store.record(r)
            _ = try await store.applyReceipts([
                CarrierReceipt(channel: "smpp", carrierId: "c1-1", status: .delivered, errorCode: "000", atMs: 1500)
            ])
            let t = try await timeline(store, 1)
            #expect(t.map(\.kind) == [.accepted, .submitted, .delivered])
            #expect(t.map(\.atMs) == [1000, 1200, 1500])
            #expect(t[1].detail == "to channel smpp, carrier id c1-1")
            #expect(t[2].detail.contains("000"))
            // Nothing but the rows: the happy path writes no event.
            #expect(try await store.events(messageId: 1).isEmpty)
            // Another account's message answers like a missing one.
            #expect(try await store.history(messageId: 1, account: "other") == nil)
            #expect(try await store.history(messageId: 99, account: "acme") == nil)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func multiPartShowsEachPartAndItsReceipt(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            try await store.commit(WriteBatch(messages: [message(2)]))
            _ = try await store.claim(limit: 10, nowMs: 1100, leaseMs: 60_000)
            var r = DispatchResults()
            r.sent = [sent(2, at: 1200, parts: 2)]
            try await store.record(r)
            _ = try await store.applyReceipts([
                CarrierReceipt(channel: "smpp", carrierId: "c2-1", status: .delivered, atMs: 1300),
                CarrierReceipt(channel: "smpp", carrierId: "c2-2", status: .delivered, atMs: 1400),
            ])
            let t = try await timeline(store, 2)
            #expect(t.map(\.kind) == [.accepted, .submitted, .submitted, .delivered, .delivered, .delivered])
            #expect(t[1].detail == "part 1/2 to channel smpp, carrier id c2-1")
            #expect(t[2].detail == "part 2/2 to channel smpp, carrier id c2-2")
            #expect(t[3].detail.hasPrefix("part 1/2") && t[3].atMs == 1300)
            #expect(t[4].detail.hasPrefix("part 2/2") && t[4].atMs == 1400)
            #expect(t[5].atMs == 1400 && !t[5].detail.hasPrefix("part"))
        }
    }

    @Test(arguments: StoreKind.allCases)
    func retriedThenDeliveredKeepsTheReasonAndTheRetryTime(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            try await store.commit(WriteBatch(messages: [message(3)]))
            _ = try await store.claim(limit: 10, nowMs: 1100, leaseMs: 60_000)
            var r = DispatchResults()
            let reason = "throttled by the carrier (ESME_RTHROTTLED, command_status 0x00000058) on channel smpp"
            r.retry = [RetryRecord(id: 3, atMs: 1150, notBeforeMs: 6150, reason: reason)]
            try await store.record(r)
            // Waiting, the store says why and until when.
            let waiting = try #require(try await store.history(messageId: 3, account: "acme"))
            let why = try #require(waiting.storeWaitReason(nowMs: 2000))
            #expect(why == WaitReason(text: "retry", untilMs: 6150, after: reason))
            #expect(why.sentence { "t\($0)" } == "retry at t6150 after \(reason)")
            // A lease that ran out is recorded too.
            _ = try await store.claim(limit: 10, nowMs: 6200, leaseMs: 100)
            #expect(try await store.requeueExpiredLeases(nowMs: 6400) == 1)
            _ = try await store.claim(limit: 10, nowMs: 6500, leaseMs: 60_000)
            r = DispatchResults()
            r.sent = [sent(3, at: 6600)]
            r.inbox = []
            try await store.record(r)
            _ = try await store.applyReceipts([
                CarrierReceipt(channel: "smpp", carrierId: "c3-1", status: .delivered, atMs: 7000)
            ])
            let t = try await timeline(store, 3)
            #expect(t.map(\.kind) == [.accepted, .retried, .requeued, .submitted, .delivered])
            #expect(t[1].atMs == 1150 && t[1].untilMs == 6150 && t[1].detail == reason)
            #expect(t[2].atMs == 6400)
            // A retry that found the message no longer being submitted (a late outcome) records nothing.
            r = DispatchResults()
            r.retry = [RetryRecord(id: 3, atMs: 8000, notBeforeMs: 9000, reason: "late")]
            try await store.record(r)
            #expect(try await timeline(store, 3).count == 5)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func failedAndExpiredShowTheirCodeOnce(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            try await store.commit(
                WriteBatch(messages: [message(4), message(5, expiresAtMs: 3000, notBeforeMs: 2500)])
            )
            _ = try await store.claim(limit: 1, nowMs: 1100, leaseMs: 60_000)
            var r = DispatchResults()
            r.sent = [sent(4, at: 1200)]
            try await store.record(r)
            _ = try await store.applyReceipts([
                CarrierReceipt(channel: "smpp", carrierId: "c4-1", status: .failed, errorCode: "UNDELIV", atMs: 1300)
            ])
            var t = try await timeline(store, 4)
            #expect(t.map(\.kind) == [.accepted, .submitted, .failed])
            #expect(t[2].detail.hasPrefix("UNDELIV"))
            // Scheduled: the store says until when.
            let scheduled = try #require(try await store.history(messageId: 5, account: "acme"))
            #expect(scheduled.entries.first?.untilMs == 2500)
            #expect(scheduled.storeWaitReason(nowMs: 2000) == WaitReason(text: "scheduled", untilMs: 2500))
            #expect(scheduled.storeWaitReason(nowMs: 2600) == WaitReason(text: "queued", sinceMs: 2500))
            _ = try await store.expireQueued(nowMs: 3000)
            t = try await timeline(store, 5)
            #expect(t.map(\.kind) == [.accepted, .expired])
            #expect(t[1].atMs == 3000 && t[1].detail.hasPrefix("EXPIRED: The validity period ended"))
            #expect(
                try #require(try await store.history(messageId: 5, account: "acme")).storeWaitReason(nowMs: 4000) == nil
            )
        }
    }

    @Test(arguments: StoreKind.allCases)
    func receiptPushesRetriesParksAndReplaysAreRecorded(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            try await store.putAccount(
                AccountRecord(name: "acme", receiptURL: "http://127.0.0.1:9/r", webhookSecret: "s", updatedAtMs: 1)
            )
            try await store.commit(WriteBatch(messages: [message(6), message(7)]))
            _ = try await store.claim(limit: 10, nowMs: 1100, leaseMs: 60_000)
            var r = DispatchResults()
            r.sent = [sent(6, at: 1200), sent(7, at: 1200)]
            try await store.record(r)
            _ = try await store.applyReceipts([
                CarrierReceipt(channel: "smpp", carrierId: "c6-1", status: .delivered, atMs: 1300),
                CarrierReceipt(channel: "smpp", carrierId: "c7-1", status: .delivered, atMs: 1300),
            ])
            var t = try await timeline(store, 6)
            #expect(t.last?.kind == .receiptPending && t.last?.untilMs == 1300)
            let due = try await store.dueReceipts(account: "acme", nowMs: 1400, limit: 10)
            let six = try #require(due.first { $0.message.id == 6 })
            let seven = try #require(due.first { $0.message.id == 7 })
            try await store.receiptsRetry([
                ReceiptRetry(id: six.id, atMs: 1400, nextAtMs: 2400, error: "the receiver answered HTTP 500")
            ])
            t = try await timeline(store, 6)
            #expect(t.map(\.kind).suffix(2) == [.receiptRetry, .receiptPending])
            #expect(t[t.count - 2].detail == "attempt 1 failed: the receiver answered HTTP 500")
            #expect(t[t.count - 2].untilMs == 2400 && t.last?.untilMs == 2400)
            try await store.receiptsPushed(ids: [six.id], nowMs: 2500)
            t = try await timeline(store, 6)
            #expect(t.map(\.kind) == [.accepted, .submitted, .delivered, .receiptRetry, .receiptPushed])
            #expect(t.last?.atMs == 2500 && t.last?.detail == "on attempt 2")
            // Parked, then sent again by an operator, then taken.
            try await store.parkReceipts(ids: [seven.id], error: "the receiver is gone", nowMs: 1500)
            t = try await timeline(store, 7)
            #expect(t.map(\.kind).suffix(2) == [.delivered, .receiptParked])  // the event, not the parked row again
            #expect(t.last?.detail == "parked after attempt 1: the receiver is gone")
            #expect(try await store.retryParked(account: "acme", nowMs: 3000) == 1)
            #expect(try await store.replayReceipts(ReceiptFilter(messageId: 6), nowMs: 3100) == 1)
            #expect(try await timeline(store, 6).suffix(2).map(\.kind) == [.receiptReplayed, .receiptPending])
            let again = try await store.dueReceipts(account: "acme", nowMs: 3000, limit: 10)
            try await store.receiptsPushed(ids: again.filter { $0.message.id == 7 }.map(\.id), nowMs: 3200)
            t = try await timeline(store, 7)
            #expect(t.map(\.kind).suffix(3) == [.receiptParked, .receiptReplayed, .receiptPushed])
            #expect(t.last?.atMs == 3200)
            // Failures and expiries alone stay `events`.
            #expect(try await store.events(messageId: 7).isEmpty)
        }
    }

    /// A message retried every second for days keeps a bounded history that still ends with the latest reason.
    @Test(arguments: StoreKind.allCases)
    func retriesKeepABoundedNumberOfRows(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            try await store.commit(WriteBatch(messages: [message(8)]))
            let cap = HistoryEventKind.maxRowsPerMessage
            for i in 1...(cap + 5) {
                let at = Int64(1000 * i)
                _ = try await store.claim(limit: 10, nowMs: at, leaseMs: 60_000)
                var r = DispatchResults()
                r.retry = [RetryRecord(id: 8, atMs: at, notBeforeMs: at + 1000, reason: "retry \(i)")]
                try await store.record(r)
            }
            let t = try #require(try await store.history(messageId: 8, account: "acme"))
            let retries = t.entries.filter { $0.kind == .retried }
            #expect(retries.count == cap)
            #expect(
                retries.last?.detail == "retry \(cap + 5)" && retries.last?.untilMs == Int64(1000 * (cap + 5) + 1000)
            )
            #expect(retries[cap - 2].detail == "retry \(cap - 1)")
            #expect(t.storeWaitReason(nowMs: Int64(1000 * (cap + 5)))?.after == "retry \(cap + 5)")
            // Lease requeues are bounded the same way.
            for i in 1...(cap + 3) {
                let at = Int64(100_000 + 1000 * i)
                _ = try await store.claim(limit: 10, nowMs: at, leaseMs: 10)
                #expect(try await store.requeueExpiredLeases(nowMs: at + 100) == 1)
            }
            let requeues = try #require(try await store.history(messageId: 8, account: "acme")).entries
            #expect(requeues.filter { $0.kind == .requeued }.count == cap)
        }
    }
}
