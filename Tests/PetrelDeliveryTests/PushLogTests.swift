import Foundation
import PetrelCore
import PetrelStore
import Testing

@testable import PetrelDelivery

/// The push log's front: URLs lose their credentials before anything keeps them, entries carry the node's name,
/// this node's entries show before they are written, and a flush writes them to the store in one call.
@Suite struct PushLogTests {
    @Test func urlsLoseUserInfoAndQueryValues() {
        #expect(PushLog.redact("https://example.com/hook") == "https://example.com/hook")
        #expect(PushLog.redact("https://user:pa55@example.com:8443/hook") == "https://***@example.com:8443/hook")
        #expect(
            PushLog.redact("http://example.com/h?token=s3cret&x=1&flag") == "http://example.com/h?token=***&x=***&flag"
        )
        #expect(PushLog.redact("https://example.com/h#frag") == "https://example.com/h")
        #expect(PushLog.redact("not a url with pa55") == "(not a URL)")
        #expect(PushLog.redact("") == "")
    }

    func entry(_ atMs: Int64, url: String, problem: String? = nil) -> PushLog.Entry {
        PushLog.Entry(atMs: atMs, account: "acme", kind: "receipt", url: url, items: 1, attempt: 1, problem: problem)
    }

    @Test func entriesAreRedactedNamedAndWrittenInOneFlush() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("petrel-pushlog-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try SQLiteStore(directory: dir, secrets: try SecretBox(key: Array(repeating: 1, count: 32)))
        let log = PushLog(store: store, node: "node-a", capacity: 2)
        let secret = "https://u:pa55@example.com/hook?token=s3cret"
        log.record(entry(1, url: "https://example.com/ok"))
        log.record(entry(2, url: "https://example.com/ok"))
        log.record(entry(3, url: secret, problem: "cannot reach \(secret)"))
        // Not written yet: shown from memory (at most the capacity).
        #expect(try await store.recentPushes(account: "acme", limit: 10).isEmpty)
        let early = await log.recent(account: "acme")
        #expect(early.map(\.atMs) == [3, 2])
        #expect(early[0].url == "https://***@example.com/hook?token=***")
        #expect(early[0].problem == "cannot reach https://***@example.com/hook?token=***")
        #expect(early.allSatisfy { $0.node == "node-a" })
        #expect(try await log.flush() == 3)
        // Written: the store keeps the newest two (the capacity), and nothing shows twice.
        let stored = try await store.recentPushes(account: "acme", limit: 10)
        #expect(stored.map(\.atMs) == [3, 2])
        #expect(await log.recent(account: "acme").map(\.atMs) == [3, 2])
        #expect(try await log.flush() == 0)
        #expect(stored[0].url == "https://***@example.com/hook?token=***")
        #expect(!stored.contains { "\($0)".contains("pa55") || "\($0)".contains("s3cret") })
        try await store.close()
    }
}
