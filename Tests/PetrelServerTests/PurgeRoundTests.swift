import Foundation
import PetrelCore
import PetrelStore
import Testing

@testable import PetrelServer

/// One background purge round over a real SQLite store: each account by its own rules, in small batches.
@Suite struct PurgeRoundTests {
    let day: Int64 = 86_400_000

    func withSQLite(_ body: (SQLiteStore) async throws -> Void) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("petrel-purge-\(UUID().uuidString)")
            .path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try SQLiteStore(directory: dir, secrets: try SecretBox(key: Array(repeating: 3, count: 32)))
        do {
            try await body(store)
            try await store.close()
        } catch {
            try? await store.close()
            throw error
        }
    }

    /// Accepts messages for `account` and makes them final at `doneAtMs`.
    func finished(
        _ store: SQLiteStore,
        _ ids: ClosedRange<Int64>,
        account: String,
        type: MessageType,
        doneAtMs: Int64
    )
        async throws
    {
        let messages = ids.map {
            Message(
                id: $0,
                account: account,
                to: "85291234567",
                from: "Petrel",
                text: "text \($0)",
                type: type,
                taskId: "",
                priority: .normal,
                createdAtMs: 1000
            )
        }
        try await store.commit(WriteBatch(messages: messages))
        _ = try await store.claim(limit: 1000, nowMs: doneAtMs, leaseMs: 60_000)
        _ = try await store.apply(ids.map { StatusUpdate(id: $0, status: .delivered, atMs: doneAtMs) })
    }

    @Test func eachAccountGoesByItsOwnRules() async throws {
        let yaml = """
            retention: {messages: 30d, batch: 3}
            accounts:
              - name: acme
                retention: {messages: 7d, texts: 1d, redactOnFinal: [OTP]}
            """
        let config = try ServerConfiguration.parse(yaml: yaml).retention
        let now: Int64 = 100 * day
        try await withSQLite { store in
            try await finished(store, 1...10, account: "acme", type: .notify, doneAtMs: now - 8 * day)  // purged
            try await finished(store, 11...17, account: "acme", type: .notify, doneAtMs: now - 2 * day)  // redacted
            try await finished(store, 18...19, account: "acme", type: .otp, doneAtMs: now - 1000)  // redacted (OTP)
            try await finished(store, 20...20, account: "acme", type: .notify, doneAtMs: now - 1000)  // kept
            try await finished(store, 21...25, account: "other", type: .notify, doneAtMs: now - 8 * day)  // kept
            try await finished(store, 26...29, account: "other", type: .otp, doneAtMs: now - 31 * day)  // purged
            let purged = try await Purge(store: store, batch: config.batch).round(config, nowMs: now)
            #expect(purged.messages == 14)
            for id in Array(1...10) + Array(26...29) as [Int64] {
                #expect(try await store.message(id: id, account: id <= 10 ? "acme" : "other") == nil)
            }
            for id in 11...19 as ClosedRange<Int64> {
                #expect(try await store.message(id: id, account: "acme")?.text == "")
            }
            #expect(try await store.message(id: 20, account: "acme")?.text == "text 20")
            #expect(try await store.message(id: 21, account: "other")?.text == "text 21")
            // A second round finds nothing more.
            #expect(try await Purge(store: store, batch: 3).round(config, nowMs: now).messages == 0)
        }
    }

    @Test func thePurgeYieldsInProportionToTheWritersOtherWork() {
        let took = Duration.milliseconds(10)
        // Idle writer: no rest beyond the first (three times the batch's time).
        #expect(Purge.busyRest(took: took, busy: 0, of: .milliseconds(30)) == .zero)
        // Busy half of the first rest: eight times the batch's time more; busy throughout (or more, counted across
        // the edges of a transaction): sixteen, so the purge works one part in twenty.
        #expect(Purge.busyRest(took: took, busy: 15_000_000, of: .milliseconds(30)) == .milliseconds(80))
        #expect(Purge.busyRest(took: took, busy: 30_000_000, of: .milliseconds(30)) == .milliseconds(160))
        #expect(Purge.busyRest(took: took, busy: 90_000_000, of: .milliseconds(30)) == .milliseconds(160))
        #expect(Purge.busyRest(took: took, busy: 5, of: .zero) == .zero)
    }
}
