import PetrelCore
import PetrelStore
import Testing

/// 2017-05-25's SmsUpExtendCode on every backend: kept with each message, and given to a reply (its `destCode`,
/// SmsUp's dest_code) from the message last sent to the phone, by the reply's account when it has one.
@Suite struct ExtendCodeConformanceTests {
    func reply(_ text: String, account: String?) -> InboundPart {
        InboundPart(
            channel: "c",
            from: "85291234567",
            to: "85260001234",
            dataCoding: 0,
            body: Array(text.utf8),
            concat: nil,
            receivedAtMs: 5000,
            account: account
        )
    }

    @Test(arguments: StoreKind.allCases)
    func aReplyCarriesTheExtendCodeOfTheMessageItAnswers(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            var coded = message(1, to: "85291234567", account: "acme")
            coded.extendCode = "90999"
            var other = message(2, to: "85291234567", account: "rival")
            other.extendCode = "12"
            try await store.commit(WriteBatch(messages: [coded, other]))
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
            // Unowned: the last sender (rival) owns it, with its code; owned by acme: acme's code.
            _ = try await store.storeInbound([reply("a", account: nil)], rules: rules, nowMs: 5000)
            _ = try await store.storeInbound([reply("b", account: "acme")], rules: rules, nowMs: 5001)
            _ = try await store.storeInbound([reply("c", account: "nobody")], rules: rules, nowMs: 5002)
            let all = try await store.inboundMessages(account: nil, from: nil, limit: 10)
            #expect(all.map(\.text) == ["c", "b", "a"])
            #expect(all.map(\.account) == ["nobody", "acme", "rival"])
            #expect(all.map(\.destCode) == ["", "90999", "12"])
            #expect(all.map(\.to) == ["85260001234", "85260001234", "85260001234"])
        }
    }
}
