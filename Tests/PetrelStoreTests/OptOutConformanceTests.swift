import Foundation
import PetrelCore
import PetrelStore
import Testing

/// Suppression lists (issue 24, opt-out), run against every store implementation.
@Suite struct OptOutConformanceTests {
    func reply(_ text: String, from: String = "85291234567", account: String? = "acme") -> InboundPart {
        InboundPart(
            channel: "c",
            from: from,
            to: "85260001234",
            dataCoding: 1,
            body: Array(text.utf8),
            receivedAtMs: 1000,
            account: account
        )
    }

    @Test(arguments: StoreKind.allCases)
    func phonesAreAddedListedAndRemovedAndEveryChangeIsReadInOrder(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            #expect(
                try await store.optOut(
                    account: "acme",
                    phones: ["1", "2", "2"],
                    source: "cli",
                    maxPhones: 10,
                    nowMs: 5
                )
                    == 2
            )
            #expect(
                try await store.optOut(account: "acme", phones: ["2", "3"], source: "cli", maxPhones: 10, nowMs: 6) == 1
            )
            #expect(
                try await store.optOut(account: "other", phones: ["1"], source: "import", maxPhones: 10, nowMs: 7) == 1
            )
            #expect(try await store.optIn(account: "acme", phones: ["1", "9"], source: "cli", nowMs: 8) == 1)
            let acme = try await store.optOuts(account: "acme", limit: 10)
            #expect(acme.map(\.phone) == ["3", "2"] && acme.allSatisfy(\.optedOut))
            #expect(try await store.optOuts(account: nil, limit: 10).count == 3)

            // Read from the start a page at a time, the changes replay to the lists.
            var cursor = OptOutCursor.start
            var seen: [OptOutEntry] = []
            while case let page = try await store.optOutChanges(after: cursor, limit: 2), let last = page.last {
                seen += page
                cursor = last.cursor
            }
            #expect(seen.count == 4)
            #expect(seen.map(\.version) == seen.map(\.version).sorted())
            let removed = seen.first { $0.account == "acme" && $0.phone == "1" }
            #expect(removed?.optedOut == false && removed?.source == "cli")
            // Nothing after the last one; a new change is.
            #expect(try await store.optOutChanges(after: cursor, limit: 10).isEmpty)
            _ = try await store.optOut(account: "acme", phones: ["1"], source: "cli", maxPhones: 10, nowMs: 9)
            let next = try await store.optOutChanges(after: cursor, limit: 10)
            #expect(next.map(\.phone) == ["1"] && next[0].optedOut && next[0].version > cursor.version)

            // Taken off long ago: forgotten.
            _ = try await store.optIn(account: "other", phones: ["1"], source: "cli", nowMs: 10)
            #expect(try await store.pruneOptIns(beforeMs: 11) == 1)
            #expect(try await store.optOutChanges(after: .start, limit: 10).allSatisfy(\.optedOut))
        }
    }

    /// `optOut.maxPhones`: an import that would exceed it adds nothing; a phone already listed costs nothing.
    @Test(arguments: StoreKind.allCases)
    func theListsAreBounded(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            _ = try await store.optOut(account: "acme", phones: ["1", "2"], source: "cli", maxPhones: 3, nowMs: 1)
            await #expect(throws: OptOutListFull.self) {
                try await store.optOut(account: "acme", phones: ["3", "4"], source: "cli", maxPhones: 3, nowMs: 2)
            }
            #expect(try await store.optOuts(account: nil, limit: 10).count == 2)
            #expect(
                try await store.optOut(account: "acme", phones: ["2", "3"], source: "cli", maxPhones: 3, nowMs: 3) == 1
            )
            // Full: a STOP is stored as a message and counted as refused.
            var rules = InboundRules()
            rules.maxOptOutPhones = 3
            let stored = try await store.storeInbound([reply("STOP", from: "5")], rules: rules, nowMs: 4)
            #expect(stored.messages == 1 && stored.optOuts.isEmpty && stored.optOutsRefused == 1)
            // A phone taken off makes room.
            _ = try await store.optIn(account: "acme", phones: ["1"], source: "cli", nowMs: 5)
            let again = try await store.storeInbound([reply("stop ", from: "5")], rules: rules, nowMs: 6)
            #expect(again.optOuts.count == 1)
        }
    }

    /// A reply that is a keyword (trimmed, any case) changes its account's list in the transaction storing it.
    @Test(arguments: StoreKind.allCases)
    func keywordsChangeTheListOfTheMessagesAccount(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let rules = InboundRules()
            let stored = try await store.storeInbound(
                [reply(" Stop\n"), reply("STOP please", from: "2"), reply("unsubscribe", from: "3", account: nil)],
                rules: rules,
                nowMs: 2000
            )
            #expect(stored.messages == 3)
            #expect(
                stored.optOuts == [
                    OptOutChange(account: "acme", phone: "85291234567", optedOut: true, to: "85260001234"),
                    OptOutChange(account: "default", phone: "3", optedOut: true, to: "85260001234"),
                ]
            )
            let listed = try await store.optOuts(account: nil, limit: 10)
            #expect(
                Set(listed.map { "\($0.account) \($0.phone) \($0.source)" }) == [
                    "acme 85291234567 STOP", "default 3 UNSUBSCRIBE",
                ]
            )
            // STOP again changes nothing: not reported, so not confirmed twice.
            let again = try await store.storeInbound([reply("STOP ")], rules: rules, nowMs: 2500)
            #expect(again.messages == 1 && again.optOuts.isEmpty)
            let start = try await store.storeInbound([reply("unstop")], rules: rules, nowMs: 3000)
            #expect(start.optOuts.map(\.optedOut) == [false])
            #expect(try await store.optOuts(account: "acme", limit: 10).isEmpty)
            // Keywords off: a message only.
            var off = rules
            off.optOut = nil
            #expect(try await store.storeInbound([reply("STOP", from: "4")], rules: off, nowMs: 4000).optOuts.isEmpty)
            #expect(try await store.optOuts(account: nil, limit: 10).count == 1)
        }
    }
}
