import Foundation
import PetrelCore
import Testing

@testable import PetrelStore

/// Access keys and the master key, where a lookalike id or a wrong key must never get further than a refusal.
@Suite struct KeySafetyTests {
    /// Swift calls "LTAI\u{212A}EY…" (KELVIN SIGN) equal to "LTAIKEY…"; the store must not: asking for the lookalike
    /// answers "no such key" and leaves the real key usable (a String-keyed cache filed "no such key" under it).
    @Test(arguments: StoreKind.allCases)
    func aLookalikeIdNeverShadowsARealKey(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let key = AccessKeyRecord(
                id: "LTAIKEY0123456789abcdef",
                secret: String(repeating: "s", count: 30),
                account: "acme",
                name: "app",
                policy: nil,
                createdAtMs: 1
            )
            try await store.putAccessKey(key)
            let lookalike = "LTAI\u{212A}EY0123456789abcdef"
            #expect(lookalike == key.id)  // the trap: canonical equivalence
            for _ in 0..<3 {
                #expect(try await store.accessKey(id: lookalike) == nil)
                #expect((store.cachedAccessKey(id: lookalike) ?? nil) == nil)
                #expect(try await store.accessKey(id: key.id)?.secret == key.secret)
            }
            #expect(try await store.accessKey(id: "") == nil)
            #expect(try await store.accessKey(id: "LTAI key") == nil)
            #expect(try await store.accessKey(id: String(repeating: "A", count: 10_000)) == nil)
        }
    }

    /// A store records its master key's fingerprint; another key is refused with a sentence naming
    /// PETREL_MASTER_KEY, and a process with no key at all does not make one for a store that has one.
    @Test(arguments: StoreKind.allCases)
    func aStoreRefusesAnotherMasterKey(kind: StoreKind) async throws {
        try await withStore(kind) { store, dir in
            let mine = MasterKey(box: try SecretBox(key: Array(repeating: 1, count: 32)), source: .environment)
            #expect(try await store.masterKeyFingerprint() == nil)
            #expect(try await mine.adopt(by: store))
            #expect(try await store.masterKeyFingerprint() == mine.box.fingerprint)
            #expect(try await mine.adopt(by: store))  // again: same key, fine

            let other = MasterKey(box: try SecretBox(key: Array(repeating: 2, count: 32)), source: .environment)
            do {
                _ = try await other.adopt(by: store)
                Issue.record("another master key was accepted")
            } catch let e as MasterKey.Mismatch {
                #expect(e.description.contains("PETREL_MASTER_KEY"))
                #expect(e.description.contains(mine.box.fingerprint))
            }

            let fresh = dir + "/node2"
            try FileManager.default.createDirectory(atPath: fresh, withIntermediateDirectories: true)
            let none = try MasterKey.find(dataDir: fresh, environment: [:])
            guard case .new = none.source else { throw Failure("expected a new key") }
            do {
                _ = try await none.adopt(by: store)
                Issue.record("a new master key was made for a store that has one")
            } catch let e as MasterKey.Mismatch {
                #expect(e.description.contains("PETREL_MASTER_KEY"))
            }
            #expect(!FileManager.default.fileExists(atPath: fresh + "/master.key"))
            #expect(try await store.masterKeyFingerprint() == mine.box.fingerprint)
        }
    }

    /// A store from before fingerprints: its sealed secrets tell whether a key is its own.
    @Test func aStoreWithoutFingerprintIsCheckedByItsSecrets() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("petrel-mk-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let one = try SecretBox(key: Array(repeating: 1, count: 32))
        let first = try SQLiteStore(directory: dir, secrets: one)
        try await first.putAccessKey(
            AccessKeyRecord(
                id: "LTAIold",
                secret: String(repeating: "x", count: 30),
                account: "default",
                name: "old",
                policy: nil,
                createdAtMs: 1
            )
        )
        try await first.close()

        let second = try SQLiteStore(directory: dir, secrets: try SecretBox(key: Array(repeating: 2, count: 32)))
        await #expect(throws: MasterKey.Mismatch.self) {
            _ = try await MasterKey(box: try SecretBox(key: Array(repeating: 2, count: 32)), source: .environment)
                .adopt(by: second)
        }
        #expect(try await second.masterKeyFingerprint() == nil)
        try await second.close()

        let third = try SQLiteStore(directory: dir, secrets: one)
        #expect(try await MasterKey(box: one, source: .environment).adopt(by: third))
        #expect(try await third.masterKeyFingerprint() == one.fingerprint)
        try await third.close()
    }
}

struct Failure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
