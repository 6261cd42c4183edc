import Foundation
import PetrelCore
import PetrelStore
import Testing

/// Inbound messages (MO) owed to ESMEs as deliver_sm on every backend: a row for an account with an SMPP user,
/// leased, released, acknowledged, purged with its message.
@Suite struct SMPPMOConformanceTests {
    let inbound = InboundConformanceTests()

    @Test(arguments: StoreKind.allCases)
    func moRowsAreLeasedReleasedAndDone(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            // Before acme has an SMPP user: no row (the moUrl push alone, if any).
            _ = try await store.storeInbound([inbound.part("before")], rules: InboundRules(), nowMs: 1000)
            #expect(try await store.smppMOCountsByAccount().isEmpty)
            #expect(try await store.smppMOCountsByAccount(cap: 10_000).isEmpty)
            for (id, account) in [("crm", "acme"), ("bulk", "other")] {
                let user = SMPPUserRecord(systemID: id, password: "pw", account: account, createdAtMs: 1)
                #expect(try await store.addSMPPUser(user))
            }
            _ = try await store.storeInbound(
                [
                    inbound.part("one", at: 2000), inbound.part("two", at: 2001),
                    inbound.part("three", at: 2002, account: "other"),
                    inbound.part("none", at: 2003, account: "nobody"),
                ],
                rules: InboundRules(),
                nowMs: 2000
            )
            // A long one, assembled from its parts: one row for the message.
            _ = try await store.storeInbound(
                [inbound.part("lo", seq: 1, of: 2), inbound.part("ng", seq: 2, of: 2)],
                rules: InboundRules(),
                nowMs: 2100
            )
            #expect(try await store.smppMOCountsByAccount() == ["acme": 3, "other": 1])
            // Bounded (the console's): cap + 1 means "more than cap".
            #expect(try await store.smppMOCountsByAccount(cap: 10_000) == ["acme": 3, "other": 1])
            #expect(try await store.smppMOCountsByAccount(cap: 1) == ["acme": 2, "other": 1])

            let first = try await store.claimSMPPMO(accounts: ["acme"], nowMs: 3000, untilMs: 9000, limit: 2)
            #expect(first.map(\.text) == ["one", "two"])
            #expect(first[0].from == "85291234567" && first[0].to == "85260001234" && first[0].account == "acme")
            // Leased: no one else gets them before 9000; the rest is next.
            let second = try await store.claimSMPPMO(accounts: ["acme"], nowMs: 3000, untilMs: 9000, limit: 10)
            #expect(second.map(\.text) == ["long"] && second[0].parts == 2)
            #expect(try await store.claimSMPPMO(accounts: ["acme"], nowMs: 8999, untilMs: 9999, limit: 10).isEmpty)
            #expect(try await store.claimSMPPMO(accounts: [], nowMs: 3000, untilMs: 9000, limit: 10).isEmpty)

            try await store.smppMODone(ids: first.map(\.id))
            #expect(try await store.smppMOCountsByAccount() == ["acme": 1, "other": 1])
            // Released (its bind went): offered again at once. Not acknowledged: again after its lease.
            try await store.releaseSMPPMO(ids: second.map(\.id), nowMs: 4000)
            let again = try await store.claimSMPPMO(
                accounts: ["acme", "other"],
                nowMs: 4000,
                untilMs: 20000,
                limit: 10
            )
            #expect(again.map(\.text).sorted() == ["long", "three"])
            #expect(try await store.claimSMPPMO(accounts: ["acme"], nowMs: 20000, untilMs: 30000, limit: 10).count == 1)
            try await store.smppMODone(ids: second.map(\.id))
            #expect(try await store.smppMOCountsByAccount() == ["other": 1])

            // Retention: a row still owed when its message is purged goes with it.
            #expect(try await store.purgeInbound(receivedBeforeMs: 5000, limit: 100) == 6)
            #expect(try await store.smppMOCountsByAccount().isEmpty)
            #expect(try await store.smppMOCountsByAccount(cap: 10_000).isEmpty)
        }
    }
}
