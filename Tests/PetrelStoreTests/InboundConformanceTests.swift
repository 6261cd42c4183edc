import Foundation
import PetrelCore
import PetrelStore
import Testing

/// Inbound messages (issue 24), run against every store implementation.
@Suite struct InboundConformanceTests {
    func ucs2(_ s: String) -> [UInt8] {
        s.utf16.flatMap { [UInt8(truncatingIfNeeded: $0 >> 8), UInt8(truncatingIfNeeded: $0)] }
    }

    func part(
        _ text: String,
        from: String = "85291234567",
        seq: Int? = nil,
        of total: Int = 3,
        ref: Int = 7,
        at: Int64 = 1000,
        account: String? = "acme"
    ) -> InboundPart {
        InboundPart(
            channel: "c",
            from: from,
            to: "85260001234",
            dataCoding: 8,
            body: ucs2(text),
            concat: seq.map { .init(reference: ref, total: total, seq: $0) },
            receivedAtMs: at,
            account: account
        )
    }

    func withMoURL(_ store: any MessageStore) async throws {
        try await store.putAccount(
            AccountRecord(name: "acme", receiptURL: "", webhookSecret: "s3cret", updatedAtMs: 1, moURL: "http://h/mo")
        )
    }

    /// A carrier's NUL byte (ASCII, Latin-1 or UCS-2) once failed PostgreSQL's batch, and every batch the resend
    /// came in: it is stored as hex beside the parts batched with it.
    @Test(arguments: StoreKind.allCases)
    func aNulByteIsStoredAsHexWithItsBatch(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            var nul = part("x")
            (nul.dataCoding, nul.body) = (1, [0x41, 0x00])
            let stored = try await store.storeInbound([nul, part("ok")], rules: InboundRules(), nowMs: 2000)
            #expect(stored.messages == 2)
            let all = try await store.inboundMessages(account: nil, from: nil, limit: 10)
            #expect(all.map(\.text) == ["ok", "4100"] && all.map(\.encoding) == ["ucs2", "hex"])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aWholeMessageIsStoredAndQueuedForAnAccountWithAnInboundURL(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            try await withMoURL(store)
            let stored = try await store.storeInbound(
                [part("Hello"), part("hi", account: "other")],
                rules: InboundRules(),
                nowMs: 2000
            )
            #expect(stored == InboundStored(messages: 2, duplicates: 0, pending: 0))
            let all = try await store.inboundMessages(account: nil, from: nil, limit: 10)
            #expect(all.map(\.text) == ["hi", "Hello"] && all.map(\.account) == ["other", "acme"])
            #expect(all[1].encoding == "ucs2" && all[1].parts == 1 && !all[1].incomplete && all[1].receivedAtMs == 1000)
            #expect(try await store.inboundOutboxCounts() == OutboxCounts(pending: 1, parked: 0))
            let due = try await store.dueInbound(account: "acme", nowMs: 2000, limit: 10)
            #expect(due.map(\.message.text) == ["Hello"] && due[0].attempts == 0 && due[0].createdAtMs == 2000)
            #expect(try await store.dueInbound(account: "other", nowMs: 2000, limit: 10).isEmpty)
            #expect(try await store.inboundMessages(account: "acme", from: "85291234567", limit: 10).count == 1)
            #expect(try await store.inboundMessages(account: nil, from: "1", limit: 10).isEmpty)
        }
    }

    /// Three parts out of order, in three calls (as from three binds), and a resent part: one message, stored once.
    @Test(arguments: StoreKind.allCases)
    func partsAreAssembledAndDuplicatesStoredOnce(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let rules = InboundRules()
            var s = try await store.storeInbound([part("ri", seq: 3)], rules: rules, nowMs: 1000)
            #expect(s == InboundStored(messages: 0, duplicates: 0, pending: 1))
            // The same part again, twice in one batch with the first of its siblings.
            s = try await store.storeInbound(
                [part("ri", seq: 3), part("Bonj", seq: 1), part("Bonj", seq: 1)],
                rules: rules,
                nowMs: 1001
            )
            #expect(s == InboundStored(messages: 0, duplicates: 2, pending: 2))
            #expect(try await store.pendingInboundParts() == 2)
            s = try await store.storeInbound([part("our, Ma", seq: 2)], rules: rules, nowMs: 1002)
            #expect(s == InboundStored(messages: 1, duplicates: 0, pending: 0))
            let all = try await store.inboundMessages(account: nil, from: nil, limit: 10)
            #expect(all.map(\.text) == ["Bonjour, Mari"] && all[0].parts == 3 && !all[0].incomplete)
            // A resend after the message was made is still a duplicate (its fingerprint is kept for the window).
            s = try await store.storeInbound([part("ri", seq: 3)], rules: rules, nowMs: 1003)
            #expect(s.duplicates == 1 && s.messages == 0)
            #expect(try await store.pendingInboundParts() == 0)
            // Past the window (pruned), the same bytes are a new part.
            #expect(try await store.pruneInboundParts(beforeMs: 5000) == 3)
            s = try await store.storeInbound([part("ri", seq: 3, at: 9000)], rules: rules, nowMs: 9000)
            #expect(s.duplicates == 0 && s.pending == 1)
        }
    }

    /// One place of a message sent again and again with other bytes each time: the first is kept, the others are
    /// duplicates (each was stored, growing one group without end).
    @Test(arguments: StoreKind.allCases)
    func onePlaceSentAgainWithOtherBytesIsADuplicate(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let rules = InboundRules()
            var s = try await store.storeInbound(
                [part("a", seq: 1, of: 2), part("b", seq: 1, of: 2)],
                rules: rules,
                nowMs: 1000
            )
            #expect(s == InboundStored(messages: 0, duplicates: 1, pending: 1))
            s = try await store.storeInbound([part("c", seq: 1, of: 2)], rules: rules, nowMs: 1001)
            #expect(s.duplicates == 1)
            #expect(try await store.pendingInboundParts() == 1)
            s = try await store.storeInbound([part("z", seq: 2, of: 2)], rules: rules, nowMs: 1002)
            #expect(s == InboundStored(messages: 1, duplicates: 0, pending: 0))
            let all = try await store.inboundMessages(account: nil, from: nil, limit: 10)
            #expect(all.map(\.text) == ["az"] && all[0].parts == 2)
        }
    }

    /// Two accounts' sandbox messages with one phone, number and reference: neither is the other's duplicate, and
    /// their parts are not joined (the second account's text went to the first).
    @Test(arguments: StoreKind.allCases)
    func oneAccountsPartsDoNotJoinAnothers(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let rules = InboundRules()
            var s = try await store.storeInbound(
                [part("Hello"), part("Hello", account: "other")],
                rules: rules,
                nowMs: 1000
            )
            #expect(s == InboundStored(messages: 2, duplicates: 0, pending: 0))
            s = try await store.storeInbound(
                [part("mine", seq: 1, of: 2), part("theirs", seq: 2, of: 2, account: "other")],
                rules: rules,
                nowMs: 1001
            )
            #expect(s == InboundStored(messages: 0, duplicates: 0, pending: 2))
            #expect(try await store.inboundMessages(account: "acme", from: nil, limit: 10).map(\.text) == ["Hello"])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func partsWhoseSiblingsNeverComeAreDeliveredIncomplete(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            try await withMoURL(store)
            let rules = InboundRules()
            _ = try await store.storeInbound(
                [part("one ", seq: 1, at: 1000), part("three", seq: 3, at: 1500), part("x", seq: 1, ref: 8, at: 5000)],
                rules: rules,
                nowMs: 5000
            )
            #expect(try await store.releaseInboundParts(olderThanMs: 2000, rules: rules, nowMs: 6000) == 1)
            let all = try await store.inboundMessages(account: nil, from: nil, limit: 10)
            #expect(all.count == 1 && all[0].text == "one three" && all[0].incomplete && all[0].parts == 2)
            #expect(try await store.pendingInboundParts() == 1)
            #expect(try await store.dueInbound(account: "acme", nowMs: 6000, limit: 10).count == 1)
            // The late sibling is a new (incomplete) part, not lost.
            _ = try await store.storeInbound([part("two ", seq: 2, at: 7000)], rules: rules, nowMs: 7000)
            #expect(try await store.pendingInboundParts() == 2)
        }
    }

    /// A peer sending parts that never match: pending parts stay within the bound, the oldest delivered alone.
    @Test(arguments: StoreKind.allCases)
    func pendingPartsAreBounded(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            var rules = InboundRules()
            rules.maxPendingParts = 5
            let parts = (0..<12).map { part("p\($0)", seq: 1, of: 2, ref: $0, at: 1000 + Int64($0)) }
            let s = try await store.storeInbound(parts, rules: rules, nowMs: 2000)
            #expect(s.pending == 5 && s.messages == 7)
            #expect(try await store.pendingInboundParts() == 5)
            let made = try await store.inboundMessages(account: nil, from: nil, limit: 20)
            #expect(Set(made.map(\.text)) == Set((0..<7).map { "p\($0)" }) && made.allSatisfy(\.incomplete))
        }
    }

    /// Without `inbound:` naming its destination, a reply belongs to the account that last sent to its phone within
    /// the reply window, else to the default account.
    @Test(arguments: StoreKind.allCases)
    func repliesGoToTheLastSender(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            try await store.commit(
                WriteBatch(messages: [
                    message(1, to: "85291234567", account: "old"), message(2, to: "85291234567", account: "recent"),
                ])
            )
            let claimed = try await store.claim(limit: 10, nowMs: 1000, leaseMs: 60_000)
            var results = DispatchResults()
            results.sent = claimed.map {
                SentRecord(
                    id: $0.id,
                    channel: "c",
                    carrierMessageId: "x\($0.id)",
                    sentAtMs: $0.id == 1 ? 1000 : 2000,
                    parts: [PartRecord(part: 1, total: 1, carrierId: "x\($0.id)")]
                )
            }
            try await store.record(results)
            var rules = InboundRules()
            rules.replyWindowMs = 10_000
            _ = try await store.storeInbound(
                [part("yes", account: nil), part("who?", from: "447700900001", account: nil)],
                rules: rules,
                nowMs: 5000
            )
            var all = try await store.inboundMessages(account: nil, from: nil, limit: 10)
            #expect(all.map(\.account) == ["default", "recent"])
            // Past the window: the default account.
            _ = try await store.storeInbound([part("late", at: 20_000, account: nil)], rules: rules, nowMs: 20_000)
            all = try await store.inboundMessages(account: nil, from: "85291234567", limit: 1)
            #expect(all.map(\.account) == ["default"])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func theOutboxIsLeasedRetriedParkedAndRetried(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            try await withMoURL(store)
            _ = try await store.storeInbound([part("a"), part("b")], rules: InboundRules(), nowMs: 1000)
            let due = try await store.dueInbound(account: "acme", nowMs: 1000, limit: 10)
            #expect(due.count == 2 && due[0].message.id < due[1].message.id)
            #expect(try await store.leaseInbound(ids: due.map(\.id), nowMs: 1000, untilMs: 5000).count == 2)
            #expect(try await store.leaseInbound(ids: due.map(\.id), nowMs: 1000, untilMs: 5000).isEmpty)
            #expect(try await store.dueInbound(account: "acme", nowMs: 4999, limit: 10).isEmpty)
            try await store.inboundRetry([ReceiptRetry(id: due[0].id, atMs: 1000, nextAtMs: 3000, error: "HTTP 500")])
            let again = try await store.dueInbound(account: "acme", nowMs: 3000, limit: 10)
            #expect(again.map(\.id) == [due[0].id] && again[0].attempts == 1 && again[0].lastError == "HTTP 500")
            // The same sequence_id on every attempt.
            #expect(again[0].message.id == due[0].message.id)
            try await store.parkInbound(ids: [due[0].id], error: "gone", nowMs: 3000)
            #expect(try await store.inboundOutboxCounts() == OutboxCounts(pending: 1, parked: 1))
            try await store.inboundPushed(ids: [due[1].id], nowMs: 6000)
            #expect(try await store.inboundOutboxCounts() == OutboxCounts(pending: 0, parked: 1))
            // The console's page: each message with where its push stands.
            _ = try await store.storeInbound([part("c", account: "acme")], rules: InboundRules(), nowMs: 6500)
            try await store.putAccount(
                AccountRecord(name: "acme", receiptURL: "", webhookSecret: "s3cret", updatedAtMs: 2, moURL: "")
            )
            _ = try await store.storeInbound([part("d", from: "85291234599")], rules: InboundRules(), nowMs: 6600)
            let rows = try await store.inboundWithPush(account: "acme", from: nil, limit: 10)
            #expect(rows.map(\.message.text) == ["d", "c", "b", "a"])
            #expect(
                rows.map(\.push) == [
                    .none, .waiting(attempts: 0, lastError: ""), .pushed(atMs: 6000),
                    .parked(attempts: 2, lastError: "gone"),
                ]
            )
            #expect(try await store.inboundWithPush(account: "acme", from: "85291234599", limit: 10).count == 1)
            #expect(try await store.inboundWithPush(account: "other", from: nil, limit: 10).isEmpty)
            #expect(try await store.retryParkedInbound(account: "acme", nowMs: 7000) == 1)
            #expect(try await store.dueInbound(account: "acme", nowMs: 7000, limit: 10).map(\.id).contains(due[0].id))
        }
    }

    /// Kept for `inbound.keepDays`, then deleted with their outbox rows, the oldest first, a batch at a time.
    @Test(arguments: StoreKind.allCases)
    func oldMessagesArePurged(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            try await withMoURL(store)
            let parts = (0..<5).map { part("m\($0)", at: 1000 + Int64($0) * 1000) }
            _ = try await store.storeInbound(parts, rules: InboundRules(), nowMs: 9000)
            #expect(try await store.purgeInbound(receivedBeforeMs: 3500, limit: 2) == 2)
            #expect(try await store.purgeInbound(receivedBeforeMs: 3500, limit: 2) == 1)
            #expect(try await store.purgeInbound(receivedBeforeMs: 3500, limit: 2) == 0)
            let left = try await store.inboundMessages(account: nil, from: nil, limit: 10)
            #expect(left.map(\.text) == ["m4", "m3"])
            #expect(try await store.inboundOutboxCounts() == OutboxCounts(pending: 2, parked: 0))
        }
    }

    @Test(arguments: StoreKind.allCases)
    func theInboundURLIsKeptWithTheAccount(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            try await withMoURL(store)
            #expect(try await store.accounts().map(\.moURL) == ["http://h/mo"])
        }
    }
}
