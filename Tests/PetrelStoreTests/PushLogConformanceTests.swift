import Foundation
import PetrelCore
import Testing

@testable import PetrelStore

/// The console's push log on every backend: entries come back newest first with every field (node included), per
/// account, and each write keeps only the newest `keep` of the accounts it wrote for; on PostgreSQL two nodes see
/// each other's entries and the bound holds across them.
@Suite struct PushLogConformanceTests {
    func entry(_ n: Int, node: String = "node-a", account: String = "acme", problem: String? = nil) -> PushEntry {
        PushEntry(
            atMs: Int64(1000 + n),
            node: node,
            account: account,
            kind: n % 2 == 0 ? "receipt" : "inbound message",
            url: "https://***@example.com/hook?token=***",
            items: n,
            attempt: 1 + n % 3,
            problem: problem
        )
    }

    @Test(arguments: StoreKind.allCases)
    func newestFirstPerAccountAndBounded(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            #expect(try await store.recentPushes(account: "acme", limit: 50).isEmpty)
            try await store.recordPushes(
                [entry(1), entry(2, problem: "the receiver answered HTTP 500: busy"), entry(3, account: "other")],
                keep: 3
            )
            #expect(
                try await store.recentPushes(account: "acme", limit: 50) == [
                    entry(2, problem: "the receiver answered HTTP 500: busy"), entry(1),
                ]
            )
            #expect(try await store.recentPushes(account: "other", limit: 50) == [entry(3, account: "other")])
            // Three more for acme in one write: only the newest three stay; the other account keeps its one.
            try await store.recordPushes([entry(4), entry(5), entry(6)], keep: 3)
            #expect(try await store.recentPushes(account: "acme", limit: 50) == [entry(6), entry(5), entry(4)])
            #expect(try await store.recentPushes(account: "acme", limit: 2) == [entry(6), entry(5)])
            #expect(try await store.recentPushes(account: "other", limit: 50).count == 1)
            // Many writes of one entry each: never more than `keep`.
            for n in 7..<27 { try await store.recordPushes([entry(n)], keep: 3) }
            #expect(try await store.recentPushes(account: "acme", limit: 50) == [entry(26), entry(25), entry(24)])
            // Hostile text is data.
            let odd = entry(30, account: "a'; DROP TABLE push_log; --", problem: "<script>")
            try await store.recordPushes([odd], keep: 3)
            #expect(try await store.recentPushes(account: odd.account, limit: 5) == [odd])
        }
    }

    @Test func twoNodesOnOnePostgreSQLSeeEachOthersPushesAndTheBoundHolds() async throws {
        try await withTwoNodes { a, b in
            try await a.recordPushes([entry(1, node: "node-a")], keep: 4)
            try await b.recordPushes([entry(2, node: "node-b", problem: "timed out")], keep: 4)
            let expected = [entry(2, node: "node-b", problem: "timed out"), entry(1, node: "node-a")]
            #expect(try await a.recentPushes(account: "acme", limit: 50) == expected)
            #expect(try await b.recentPushes(account: "acme", limit: 50) == expected)
            // Both write at once, many times: the newest four stay, from either node.
            async let fromA: Void = {
                for n in stride(from: 3, to: 40, by: 2) {
                    try await a.recordPushes([entry(n, node: "node-a")], keep: 4)
                }
            }()
            async let fromB: Void = {
                for n in stride(from: 4, to: 41, by: 2) {
                    try await b.recordPushes([entry(n, node: "node-b")], keep: 4)
                }
            }()
            _ = try await (fromA, fromB)
            try await a.recordPushes([entry(41, node: "node-a")], keep: 4)
            let kept = try await b.recentPushes(account: "acme", limit: 50)
            #expect(kept.count == 4)
            #expect(kept.first == entry(41, node: "node-a"))
            #expect(
                Set(try await a.recentPushes(account: "acme", limit: 50).map(\.node)).isSubset(of: ["node-a", "node-b"])
            )
        }
    }
}
