import Foundation
import PetrelStore
import Testing

@testable import PetrelServer

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

    /// A command with a mistyped data directory once made a second store there, with its own master key.
    @Test func aCommandDoesNotMakeAStore() async throws {
        let dir = scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        await #expect {
            try await DataDirectory.openStore(path: dir, environment: [:], opening: .existingOnly).close()
        } throws: { error in
            "\(error)".contains("no data directory at \(dir)") && "\(error)".contains("PETREL_DATA_DIR")
        }
        #expect(!FileManager.default.fileExists(atPath: dir))

        // An existing directory without a store: refused too, and left empty.
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        await #expect {
            try await DataDirectory.openStore(path: dir, environment: [:], opening: .existingOnly).close()
        } throws: { error in
            "\(error)".contains("no Petrel store in \(dir)") && "\(error)".contains("petrel.sqlite")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)

        // Made by the server's way of opening, the store opens; without its master key it is refused by name.
        try await DataDirectory.openStore(path: dir, environment: [:]).close()
        try await DataDirectory.openStore(path: dir, environment: [:], opening: .existingOnly).close()
        try FileManager.default.removeItem(atPath: dir + "/master.key")
        await #expect {
            try await DataDirectory.openStore(path: dir, environment: [:], opening: .existingOnly).close()
        } throws: { error in
            "\(error)".contains("no master key") && "\(error)".contains("PETREL_MASTER_KEY")
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/master.key"))
    }

    /// A relative path is shown with where it resolves: the working directory is the usual surprise.
    @Test func aRelativePathIsShownResolved() {
        let shown = DataDirectory.describe("./petrel-data")
        #expect(shown.hasPrefix("./petrel-data ("))
        #expect(shown.hasSuffix("/petrel-data)"))
        #expect(DataDirectory.describe("/var/lib/petrel") == "/var/lib/petrel")
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

    /// A command pointed at a PostgreSQL database no server has set up refuses it, with a data directory or not.
    @Test func aCommandDoesNotSetUpASharedStore() async throws {
        guard let server = ProcessInfo.processInfo.environment["PETREL_TEST_POSTGRES"] else {
            Issue.record("PETREL_TEST_POSTGRES is not set: run scripts/test.sh")
            return
        }
        let name = "petrel_test_\(UUID().uuidString.prefix(8).lowercased())"
        let url = try await PostgresStore.createDatabase(url: server, name: name)
        let dir = scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let key = ["PETREL_MASTER_KEY": String(repeating: "ef", count: 32)]
        await #expect {
            try await DataDirectory.openStore(path: dir, storeURL: url, environment: key, opening: .existingOnly)
                .close()
        } throws: { "\($0)".contains("has not been set up by a server yet") }
        await #expect {
            try await DataDirectory.openStore(path: dir, storeURL: url, environment: [:], opening: .existingOnly)
                .close()
        } throws: { "\($0)".contains("PETREL_MASTER_KEY") }
        #expect(!FileManager.default.fileExists(atPath: dir))
        try await DataDirectory.openStore(path: dir, storeURL: url, environment: key).close()
        try await DataDirectory.openStore(path: dir, storeURL: url, environment: key, opening: .existingOnly).close()
        try? await PostgresStore.dropDatabase(url: server, name: name)
    }
}
