import Foundation
import GRDB
import PetrelCore
import Testing

@testable import PetrelStore

/// Backups of the SQLite store taken while it is written, and what a restore accepts.
@Suite struct SQLiteBackupTests {
    func scratch() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("petrel-backup-\(UUID().uuidString)").path
    }

    func mode(_ path: String) throws -> Int {
        try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int ?? -1
    }

    /// A backup taken while another task commits holds every message committed before it began, is one private
    /// file (no log beside it, header not in WAL mode), and restores into a store that opens and answers.
    @Test func aBackupUnderWritesIsConsistentPrivateAndRestorable() async throws {
        let dir = scratch()
        let out = scratch()
        defer {
            try? FileManager.default.removeItem(atPath: dir)
            try? FileManager.default.removeItem(atPath: out)
        }
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let secrets = try SecretBox(key: Array(repeating: 1, count: 32))
        let store = try SQLiteStore(directory: dir, secrets: secrets)
        _ = try await store.recordMasterKeyFingerprint(secrets.fingerprint)
        for chunk in 0..<20 {
            try await store.commit(WriteBatch(messages: (1...100).map { message(Int64(chunk * 100 + $0)) }))
        }
        let writer = Task {
            var id: Int64 = 100_000
            while !Task.isCancelled {
                try await store.commit(WriteBatch(messages: (0..<20).map { message(id + $0) }))
                id += 20
            }
        }
        let file = out + "/petrel.backup"
        let summary = try SQLiteBackup.backup(directory: dir, to: file, replace: false)
        writer.cancel()
        _ = await writer.result
        try await store.close()

        #expect(summary.messages >= 2000)
        #expect(summary.masterKeyFingerprint == secrets.fingerprint)
        #expect(summary.schema == SQLiteSchema.migrator().migrations.last)
        #expect(summary.bytes > 0)
        #expect(try mode(file) == 0o600)
        #expect(!FileManager.default.fileExists(atPath: file + "-wal"))
        let header = try #require(FileManager.default.contents(atPath: file))
        #expect(header[18] == 1 && header[19] == 1)  // rollback journal: the file is the whole backup
        #expect(try FileManager.default.contentsOfDirectory(atPath: out) == ["petrel.backup"])

        // Restored elsewhere: every message there, and the copy's count is the backup's.
        let restored = out + "/restored"
        try FileManager.default.createDirectory(atPath: restored, withIntermediateDirectories: true)
        let staged = try SQLiteBackup.stage(from: file, into: restored, replace: false)
        #expect(staged.summary.messages == summary.messages)
        try staged.install()
        #expect(try mode(restored + "/petrel.sqlite") == 0o600)
        let reopened = try SQLiteStore(directory: restored, secrets: secrets)
        for id: Int64 in [1, 1000, 2000] {
            #expect(try await reopened.message(id: id, account: "acme")?.text == "text \(id)")
        }
        #expect(try await reopened.masterKeyFingerprint() == secrets.fingerprint)
        try await reopened.close()
    }

    @Test func aBackupNeverOverwritesTheStoreOrAnotherFile() async throws {
        let dir = scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await SQLiteStore(directory: dir, secrets: try SecretBox(key: Array(repeating: 1, count: 32))).close()
        for target in [dir + "/petrel.sqlite", dir + "/./petrel.sqlite-wal", dir + "/petrel.sqlite-shm"] {
            #expect(throws: SQLiteBackup.Failure.self) {
                try SQLiteBackup.backup(directory: dir, to: target, replace: true)
            }
        }
        let file = dir + "/copy"
        _ = try SQLiteBackup.backup(directory: dir, to: file, replace: false)
        #expect(throws: SQLiteBackup.Failure.self) { try SQLiteBackup.backup(directory: dir, to: file, replace: false) }
        _ = try SQLiteBackup.backup(directory: dir, to: file, replace: true)
        let missing = scratch()
        #expect(throws: SQLiteBackup.Failure.self) {
            try SQLiteBackup.backup(directory: missing, to: file, replace: true)
        }
        #expect(!FileManager.default.fileExists(atPath: missing))
    }

    /// A restore refuses what is not a Petrel store this version can open, with a sentence, and leaves nothing
    /// behind in the directory.
    @Test func aRestoreRefusesWrongFiles() async throws {
        let dir = scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/target", withIntermediateDirectories: true)

        func refusal(_ file: String) -> String {
            do {
                _ = try SQLiteBackup.stage(from: file, into: dir + "/target", replace: false)
                return "accepted"
            } catch {
                return "\(error)"
            }
        }
        try Data("not a database at all".utf8).write(to: URL(fileURLWithPath: dir + "/text"))
        #expect(refusal(dir + "/text").contains("not a SQLite database"))
        #expect(refusal(dir + "/nothing").contains("cannot read"))
        // A SQLite header over junk: refused in a sentence, not with SQLite's own error text.
        try (Data("SQLite format 3\0".utf8) + Data(repeating: 0xA5, count: 3000))
            .write(to: URL(fileURLWithPath: dir + "/damaged"))
        let damaged = refusal(dir + "/damaged")
        #expect(damaged.contains("is not a usable SQLite database") && !damaged.contains("while executing"))

        let other = try DatabaseQueue(path: dir + "/other.sqlite")
        try await other.write { try $0.execute(sql: "CREATE TABLE t (x)") }
        try other.close()
        #expect(refusal(dir + "/other.sqlite").contains("not a Petrel store"))

        let store = dir + "/store"
        try await SQLiteStore(directory: store, secrets: try SecretBox(key: Array(repeating: 1, count: 32))).close()
        let newer = try DatabaseQueue(path: store + "/petrel.sqlite")
        try await newer.write { try $0.execute(sql: "INSERT INTO grdb_migrations VALUES ('v99-future')") }
        try newer.close()
        #expect(refusal(store + "/petrel.sqlite").contains("newer Petrel"))

        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/target").isEmpty)
    }

    @Test func aRestoreReplacesAStoreOnlyWhenTold() async throws {
        let dir = scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let secrets = try SecretBox(key: Array(repeating: 1, count: 32))
        let source = try SQLiteStore(directory: dir + "/a", secrets: secrets)
        try await source.commit(WriteBatch(messages: [message(7)]))
        try await source.close()
        _ = try SQLiteBackup.backup(directory: dir + "/a", to: dir + "/a.backup", replace: false)

        let existing = try SQLiteStore(directory: dir + "/b", secrets: secrets)
        try await existing.commit(WriteBatch(messages: [message(8)]))
        try await existing.close()
        do {
            _ = try SQLiteBackup.stage(from: dir + "/a.backup", into: dir + "/b", replace: false)
            Issue.record("a store was replaced without being told to")
        } catch {
            #expect("\(error)".contains("already holds a store"))
        }
        // Stale log files of the replaced store must not survive the restore.
        try Data("stale".utf8).write(to: URL(fileURLWithPath: dir + "/b/petrel.sqlite-wal"))
        try SQLiteBackup.stage(from: dir + "/a.backup", into: dir + "/b", replace: true).install()
        #expect(!FileManager.default.fileExists(atPath: dir + "/b/petrel.sqlite-wal"))
        let restored = try SQLiteStore(directory: dir + "/b", secrets: secrets)
        #expect(try await restored.message(id: 7, account: "acme") != nil)
        #expect(try await restored.message(id: 8, account: "acme") == nil)
        try await restored.close()
        #expect(throws: SQLiteBackup.Failure.self) {
            try SQLiteBackup.stage(from: dir + "/b/petrel.sqlite", into: dir + "/b", replace: true)
        }
    }
}
