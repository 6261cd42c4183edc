import Foundation
import PetrelServer
import PetrelStore
import Testing

/// The data directory a command opens: private files, and the master key that belongs to the store.
@Suite struct DataDirectoryTests {
    func scratch() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("petrel-dd-\(UUID().uuidString)").path
    }

    func mode(_ path: String) throws -> Int {
        try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int ?? -1
    }

    @Test func aNewStoreIsForTheServiceAlone() async throws {
        let dir = scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try await DataDirectory.openStore(path: dir, environment: [:])
        try await store.close()
        #expect(try mode(dir) == 0o700)
        #expect(try mode(dir + "/master.key") == 0o600)
        #expect(try mode(dir + "/petrel.sqlite") == 0o600)

        // A store made by an older version (0644) is tightened when opened.
        chmod(dir + "/petrel.sqlite", 0o644)
        try await DataDirectory.openStore(path: dir, environment: [:]).close()
        #expect(try mode(dir + "/petrel.sqlite") == 0o600)
    }

    @Test func anotherMasterKeyIsRefusedByName() async throws {
        let dir = scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await DataDirectory.openStore(path: dir, environment: [:]).close()
        let other = ["PETREL_MASTER_KEY": String(repeating: "ab", count: 32)]
        do {
            try await DataDirectory.openStore(path: dir, environment: other).close()
            Issue.record("a store opened under another master key")
        } catch {
            #expect("\(error)".contains("PETREL_MASTER_KEY"))
        }
        try await DataDirectory.openStore(path: dir, environment: [:]).close()  // its own key still opens it
    }

    /// `petrel keys create --store postgres://…` on a second machine without PETREL_MASTER_KEY once made a new
    /// master key there; now it refuses and makes none.
    @Test func noNewMasterKeyForASharedStoreThatHasOne() async throws {
        guard let server = ProcessInfo.processInfo.environment["PETREL_TEST_POSTGRES"] else {
            Issue.record("PETREL_TEST_POSTGRES is not set: run scripts/test.sh")
            return
        }
        let name = "petrel_test_\(UUID().uuidString.prefix(8).lowercased())"
        let url = try await PostgresStore.createDatabase(url: server, name: name)
        let first = scratch()
        let second = scratch()
        defer {
            try? FileManager.default.removeItem(atPath: first)
            try? FileManager.default.removeItem(atPath: second)
        }
        let key = ["PETREL_MASTER_KEY": String(repeating: "cd", count: 32)]
        try await DataDirectory.openStore(path: first, storeURL: url, environment: key).close()
        do {
            try await DataDirectory.openStore(path: second, storeURL: url, environment: [:]).close()
            Issue.record("a new master key was made for a shared store that has one")
        } catch {
            #expect("\(error)".contains("PETREL_MASTER_KEY"))
        }
        #expect(!FileManager.default.fileExists(atPath: second + "/master.key"))
        try await DataDirectory.openStore(path: second, storeURL: url, environment: key).close()
        try? await PostgresStore.dropDatabase(url: server, name: name)
    }
}
