import Foundation
import PetrelCore
import PetrelStore
import Testing

/// Templates and sign uses are cached for the send path; a change made anywhere (this store, another process on
/// the same data directory, another node on the same database) is seen by the next read, never an old answer.
@Suite struct CatalogCacheTests {
    let template = TemplateRecord(account: "acme", code: "SMS_1", text: "code ${code}", createdAtMs: 1)

    /// `reader` caches, `writer` changes.
    func changesAreSeen(reader: any MessageStore, writer: any MessageStore) async throws {
        try await writer.putTemplate(template)
        // Read twice: the second answer comes from memory.
        #expect(try await reader.template(account: "acme", code: "SMS_1")?.audit == .approved)
        #expect(try await reader.template(account: "acme", code: "SMS_1")?.audit == .approved)
        #expect(try await reader.template(account: "acme", code: "SMS_2") == nil)
        #expect(try await reader.signUse(account: "acme", name: "Brand") == .anySign)
        #expect(try await reader.signUse(account: "acme", name: "Brand") == .anySign)

        #expect(
            try await writer.reviewTemplate(account: "acme", code: "SMS_1", audit: .rejected, reason: "no", atMs: 1)
        )
        var second = template
        second.code = "SMS_2"
        #expect(try await writer.addTemplate(second, max: 10) == .added)
        let sign = SignRecord(account: "acme", name: "Other", source: 0, type: 0, audit: .approved, createdAtMs: 1)
        #expect(try await writer.addSign(sign, max: 10) == .added)
        try await eventually {
            let rejected = try await reader.template(account: "acme", code: "SMS_1")?.audit == .rejected
            let added = try await reader.template(account: "acme", code: "SMS_2") != nil
            let unknown = try await reader.signUse(account: "acme", name: "Brand") == .unknown
            return rejected && added && unknown
        }
        #expect(try await reader.signUse(account: "acme", name: "Other") == .registered(.approved))

        #expect(try await writer.deleteTemplate(account: "acme", code: "SMS_2"))
        #expect(try await writer.reviewSign(account: "acme", name: "Other", audit: .pending, reason: "", atMs: 2))
        try await eventually {
            let gone = try await reader.template(account: "acme", code: "SMS_2") == nil
            let pending = try await reader.signUse(account: "acme", name: "Other") == .registered(.pending)
            return gone && pending
        }
        // The reader's own change is seen by its next read, at once.
        #expect(try await reader.deleteSign(account: "acme", name: "Other"))
        #expect(try await reader.signUse(account: "acme", name: "Other") == .anySign)
    }

    /// Retries `check` for up to five seconds (a notification's round trip on PostgreSQL; at once on SQLite).
    func eventually(_ check: () async throws -> Bool) async throws {
        for _ in 0..<100 {
            if try await check() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("a change was not seen within five seconds")
    }

    @Test func aChangeByAnotherProcessOnTheDirectoryIsSeenAtOnce() async throws {
        try await withStore(.sqlite) { server, dir in
            // `petrel templates approve` and friends open the same directory in a process of their own.
            let cli = try SQLiteStore(directory: dir, secrets: try SecretBox(key: Array(repeating: 1, count: 32)))
            defer { Task { try? await cli.close() } }
            try await changesAreSeen(reader: server, writer: cli)
            // On one directory nothing waits: the next read after the change already sees it.
            #expect(try await cli.reviewTemplate(account: "acme", code: "SMS_1", audit: .approved, reason: "", atMs: 3))
            #expect(try await server.template(account: "acme", code: "SMS_1")?.audit == .approved)
        }
    }

    @Test func aChangeOnAnotherNodeIsSeen() async throws {
        try await withTwoNodes { a, b in
            try await changesAreSeen(reader: a, writer: b)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aNameTooLongToRememberIsStillAnswered(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            var long = template
            long.code = String(repeating: "x", count: 300)
            try await store.putTemplate(long)
            #expect(try await store.template(account: "acme", code: long.code)?.text == "code ${code}")
            #expect(try await store.deleteTemplate(account: "acme", code: long.code))
            #expect(try await store.template(account: "acme", code: long.code) == nil)
        }
    }
}
