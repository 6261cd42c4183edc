import Foundation
import PetrelCore
import PetrelStore
import Testing

/// Receipts owed to ESMEs (deliver_sm) on every backend: ready when the message becomes final, leased, acknowledged.
@Suite struct SMPPReceiptConformanceTests {
    let outbox = OutboxConformanceTests()

    @Test(arguments: StoreKind.allCases)
    func receiptsBecomeReadyWhenFinalAndAreLeasedUntilDone(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            try await store.commit(
                WriteBatch(messages: [message(1), message(2), message(3, account: "other"), message(4), message(5)])
            )
            // 4 is final before its row is written: ready at once. 5 asked for nothing.
            try await outbox.finish(store, [4], .failed, at: 3000)
            try await store.requestSMPPReceipts([
                SMPPReceiptRequest(messageID: 1, account: "acme"),
                SMPPReceiptRequest(messageID: 2, account: "acme", failuresOnly: true),
                SMPPReceiptRequest(messageID: 3, account: "other"),
                SMPPReceiptRequest(messageID: 4, account: "acme"),
            ])
            // A second request for one message changes nothing.
            try await store.requestSMPPReceipts([SMPPReceiptRequest(messageID: 1, account: "acme")])
            #expect(try await store.smppReceiptCounts(account: "acme") == (ready: 1, waiting: 2))
            try await outbox.finish(store, [1, 2, 3], .delivered, at: 5000)
            #expect(try await store.smppReceiptCounts(account: "acme") == (ready: 3, waiting: 0))

            let first = try await store.claimSMPPReceipts(accounts: ["acme"], nowMs: 6000, untilMs: 9000, limit: 2)
            #expect(first.map(\.messageID) == [1, 2] && first.map(\.failuresOnly) == [false, true])
            #expect(first[0].status == .delivered && first[0].doneAtMs == 5001)
            // Leased: no one else gets them before 9000; the rest is next.
            let second = try await store.claimSMPPReceipts(accounts: ["acme"], nowMs: 6000, untilMs: 9000, limit: 10)
            #expect(second.map(\.messageID) == [4])
            let four = try #require(second.first)
            #expect(four.status == .failed && four.errorCode == "UNDELIV" && four.doneAtMs == 3001)
            #expect(four.recipient == "85291234567" && four.sender == "Petrel" && four.account == "acme")
            #expect(
                try await store.claimSMPPReceipts(accounts: ["acme"], nowMs: 8999, untilMs: 9999, limit: 10).isEmpty
            )
            #expect(
                try await store.claimSMPPReceipts(accounts: ["other"], nowMs: 6000, untilMs: 9000, limit: 10).map(
                    \.messageID
                ) == [3]
            )

            try await store.smppReceiptsDone(messageIDs: first.map(\.messageID))
            // Released (its bind went): offered again at once. Not acknowledged: again after its lease.
            try await store.releaseSMPPReceipts(messageIDs: [second[0].messageID], nowMs: 7000)
            #expect(
                try await store.claimSMPPReceipts(accounts: ["acme"], nowMs: 7000, untilMs: 20000, limit: 10).map(
                    \.messageID
                ) == [second[0].messageID]
            )
            #expect(
                try await store.claimSMPPReceipts(accounts: ["other"], nowMs: 9000, untilMs: 20000, limit: 10).map(
                    \.messageID
                ) == [3]
            )
            try await store.smppReceiptsDone(messageIDs: [second[0].messageID, 3])
            #expect(try await store.smppReceiptCounts(account: "acme") == (ready: 0, waiting: 0))
            #expect(
                try await store.claimSMPPReceipts(accounts: ["acme", "other"], nowMs: 90000, untilMs: 99000, limit: 10)
                    .isEmpty
            )

            // Retention: a receipt still owed when its message is purged goes with it.
            try await store.requestSMPPReceipts([SMPPReceiptRequest(messageID: 5, account: "acme")])
            try await outbox.finish(store, [5], .delivered, at: 10000)
            #expect(try await store.smppReceiptCounts(account: "acme") == (ready: 1, waiting: 0))
            _ = try await store.purgeMessages(account: "acme", finishedBeforeMs: 20000, limit: 100)
            #expect(try await store.smppReceiptCounts(account: "acme") == (ready: 0, waiting: 0))
        }
    }

    /// The console's and /metrics' figures: rows per account, ready and waiting, over the whole store.
    @Test(arguments: StoreKind.allCases)
    func countsByAccount(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            #expect(try await store.smppReceiptCountsByAccount().isEmpty)
            #expect(try await store.smppReceiptCountsByAccount(cap: 10_000).isEmpty)
            try await store.commit(
                WriteBatch(messages: [
                    message(1), message(2), message(3), message(4, account: "other"), message(5, account: "other"),
                ])
            )
            try await store.requestSMPPReceipts([
                SMPPReceiptRequest(messageID: 1, account: "acme"),
                SMPPReceiptRequest(messageID: 2, account: "acme", failuresOnly: true),
                SMPPReceiptRequest(messageID: 3, account: "acme"),
                SMPPReceiptRequest(messageID: 4, account: "other"),
            ])
            #expect(
                try await store.smppReceiptCountsByAccount() == [
                    "acme": SMPPReceiptCounts(ready: 0, waiting: 3), "other": SMPPReceiptCounts(ready: 0, waiting: 1),
                ]
            )
            try await outbox.finish(store, [1, 2, 4], .delivered, at: 5000)
            #expect(
                try await store.smppReceiptCountsByAccount() == [
                    "acme": SMPPReceiptCounts(ready: 2, waiting: 1), "other": SMPPReceiptCounts(ready: 1, waiting: 0),
                ]
            )
            // Bounded (the console's): the same below the cap, cap + 1 for "more than cap".
            #expect(
                try await store.smppReceiptCountsByAccount(cap: 10) == [
                    "acme": SMPPReceiptCounts(ready: 2, waiting: 1), "other": SMPPReceiptCounts(ready: 1, waiting: 0),
                ]
            )
            #expect(
                try await store.smppReceiptCountsByAccount(cap: 0) == [
                    "acme": SMPPReceiptCounts(ready: 1, waiting: 1), "other": SMPPReceiptCounts(ready: 1, waiting: 0),
                ]
            )
            // Claimed (sent, unanswered) rows are still pending; acknowledged ones are gone, and so is an account
            // left with none.
            let claimed = try await store.claimSMPPReceipts(
                accounts: ["acme", "other"],
                nowMs: 6000,
                untilMs: 9000,
                limit: 10
            )
            #expect(claimed.count == 3)
            #expect(try await store.smppReceiptCountsByAccount()["acme"] == SMPPReceiptCounts(ready: 2, waiting: 1))
            try await store.smppReceiptsDone(messageIDs: [1, 4])
            #expect(
                try await store.smppReceiptCountsByAccount() == ["acme": SMPPReceiptCounts(ready: 1, waiting: 1)]
            )
            #expect(
                try await store.smppReceiptCountsByAccount(cap: 10_000) == [
                    "acme": SMPPReceiptCounts(ready: 1, waiting: 1)
                ]
            )
            // Agrees with the per-account count.
            let one = try await store.smppReceiptCounts(account: "acme")
            #expect(one.ready == 1 && one.waiting == 1)
        }
    }
}
