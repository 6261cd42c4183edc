import Foundation
import GRDB

#if canImport(Glibc)
import Glibc
#endif

/// Copies of the SQLite store taken while a server runs, and their restoration into a data directory.
///
/// A backup reads the store through a read-only connection of its own, in one read transaction (SQLite's online
/// backup API in a single step): in WAL mode the server's writer keeps committing meanwhile, and the copy is the
/// store as it was when that transaction began. The copy is a single file (rollback journal, no `-wal` beside it),
/// 0600, written under a temporary name and renamed into place once synced, so a crash never leaves half a backup
/// under the final name. It holds the database only: the master key stays wherever the operator keeps it.
public enum SQLiteBackup {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    /// What a store file holds, read from the file itself.
    public struct Summary: Sendable, Equatable {
        public var messages: Int
        public var lastMessageId: Int64
        public var accessKeys: Int
        /// The fingerprint of the master key its secrets are sealed under (nil: none recorded yet).
        public var masterKeyFingerprint: String?
        /// The last schema migration applied.
        public var schema: String
        public var bytes: Int64
    }

    public static func storePath(directory: String) -> String {
        (directory as NSString).appendingPathComponent("petrel.sqlite")
    }

    /// Copies the store in `directory` to `file`. An existing `file` is replaced only when `replace` is true; the
    /// store's own files never are.
    public static func backup(directory: String, to file: String, replace: Bool) throws -> Summary {
        let source = storePath(directory: directory)
        guard FileManager.default.fileExists(atPath: source) else {
            throw Failure("there is no SQLite store at \(source)")
        }
        try refuseStoreFiles(file, store: source)
        if !replace, FileManager.default.fileExists(atPath: file) {
            throw Failure("\(file) exists: name another file, or pass --force to replace it")
        }
        let temp = try createPrivateFile(beside: file)
        do {
            var config = Configuration()
            config.readonly = true
            config.busyMode = .timeout(10)
            config.label = "petrel-backup"
            let reader = try DatabaseQueue(path: source, configuration: config)
            defer { try? reader.close() }
            let copy = try DatabaseQueue(path: temp)
            // All pages in one step: one read transaction, so one consistent state, and no restart when the
            // server commits meanwhile (a step-by-step backup starts over after every write by another process).
            try reader.backup(to: copy)
            // The copied header says WAL, like the store's: make the backup one self-contained file.
            try copy.writeWithoutTransaction { db in _ = try String.fetchOne(db, sql: "PRAGMA journal_mode = DELETE") }
            var summary = try copy.read { db in try check(db, name: file) }
            try copy.close()
            try syncFile(temp)
            guard rename(temp, file) == 0 else { throw Failure("could not write \(file): \(errnoText())") }
            syncDirectory(of: file)
            summary.bytes = fileSize(file)
            return summary
        } catch {
            unlink(temp)
            throw error
        }
    }

    /// A backup copied into a data directory and checked, not yet in place: `install()` puts it there.
    public struct Staged {
        public let summary: Summary
        let temp: String
        let target: String

        /// Replaces the store in the directory by the staged copy (the caller holds the directory's serve lock).
        public func install() throws {
            // The replaced store's log and index must never be applied to the restored file.
            for suffix in ["-wal", "-shm"] { unlink(target + suffix) }
            guard rename(temp, target) == 0 else { throw Failure("could not write \(target): \(errnoText())") }
            syncDirectory(of: target)
        }

        public func discard() { unlink(temp) }
    }

    /// Copies `file` into `directory` under a temporary name and checks that it is a Petrel store this version
    /// can open. A store already in the directory is replaced (by `install()`) only when `replace` is true.
    public static func stage(from file: String, into directory: String, replace: Bool) throws -> Staged {
        let target = storePath(directory: directory)
        try refuseStoreFiles(file, store: target)
        guard let source = FileHandle(forReadingAtPath: file) else {
            throw Failure("cannot read \(file): \(errnoText())")
        }
        defer { try? source.close() }
        let head = (try? source.read(upToCount: 16)) ?? nil
        guard head == Data("SQLite format 3\0".utf8) else {
            throw Failure("\(file) is not a Petrel backup: it is not a SQLite database")
        }
        if !replace, FileManager.default.fileExists(atPath: target) {
            throw Failure(
                "\(directory) already holds a store (\(target)): restore into an empty directory, or pass --force to replace it"
            )
        }
        let temp = try createPrivateFile(beside: target)
        do {
            try source.seek(toOffset: 0)
            try copy(source, to: temp)
            let queue: DatabaseQueue
            do {
                queue = try DatabaseQueue(path: temp)
            } catch let error as DatabaseError {
                // SQLite reads the schema on open: a damaged file fails here, and its raw error is not a sentence.
                throw Failure("\(file) is not a usable SQLite database (\(error.message ?? "\(error.resultCode)"))")
            }
            var summary = try queue.read { db in try check(db, name: file, thorough: true) }
            try queue.close()
            summary.bytes = fileSize(temp)
            try syncFile(temp)
            return Staged(summary: summary, temp: temp, target: target)
        } catch {
            unlink(temp)
            throw error
        }
    }

    /// Checks that `db` is a Petrel store this version can open, and reads its summary.
    static func check(_ db: Database, name: String, thorough: Bool = false) throws -> Summary {
        let migrator = SQLiteSchema.migrator()
        let applied: [String]
        do {
            guard try db.tableExists("grdb_migrations"), try db.tableExists("messages") else {
                throw Failure("\(name) is a SQLite database but not a Petrel store (it has no Petrel schema)")
            }
            if try migrator.hasBeenSuperseded(db) {
                throw Failure(
                    "\(name) was written by a newer Petrel: its schema has migrations this petrel does not know"
                )
            }
            applied = try migrator.appliedMigrations(db)
        } catch let error as DatabaseError {
            throw Failure("\(name) is not a usable SQLite database (\(error.message ?? "\(error.resultCode)"))")
        }
        guard let schema = applied.last else { throw Failure("\(name) is not a Petrel store (no schema version)") }
        if thorough {
            let result = try String.fetchAll(db, sql: "PRAGMA quick_check")
            guard result == ["ok"] else {
                throw Failure("\(name) is damaged: \(result.prefix(3).joined(separator: "; "))")
            }
        }
        let fingerprint =
            try db.tableExists("settings")
            ? try String.fetchOne(db, sql: "SELECT value FROM settings WHERE name = 'master_key_fingerprint'") : nil
        return Summary(
            messages: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM messages") ?? 0,
            lastMessageId: try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM messages") ?? 0,
            accessKeys: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM access_keys") ?? 0,
            masterKeyFingerprint: fingerprint,
            schema: schema,
            bytes: 0
        )
    }

    /// Refuses `file` when it is the store itself or one of its companion files (a backup `--to` the live store, or
    /// a restore `--from` the file it would replace).
    static func refuseStoreFiles(_ file: String, store: String) throws {
        var a = stat()
        var b = stat()
        for suffix in ["", "-wal", "-shm"] {
            let same =
                stat(file, &a) == 0 && stat(store + suffix, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino
            if same || standardized(file) == standardized(store + suffix) {
                throw Failure("\(file) is the store's own file \(store + suffix)")
            }
        }
    }

    static func standardized(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.path }

    /// A new empty file (0600) in the directory of `path`, named after it and this process.
    static func createPrivateFile(beside path: String) throws -> String {
        let temp = path + ".partial-\(getpid())"
        unlink(temp)  // left by an earlier run of this process id that crashed
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Failure("cannot create \(temp): \(errnoText())") }
        close(fd)
        return temp
    }

    static func copy(_ source: FileHandle, to path: String) throws {
        guard let out = FileHandle(forWritingAtPath: path) else { throw Failure("cannot write \(path)") }
        defer { try? out.close() }
        while let chunk = try source.read(upToCount: 1 << 20), !chunk.isEmpty {
            try out.write(contentsOf: chunk)
        }
    }

    static func syncFile(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure("cannot open \(path): \(errnoText())") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw Failure("cannot sync \(path): \(errnoText())") }
    }

    /// Makes a rename in the directory of `path` durable.
    static func syncDirectory(of path: String) {
        let directory = (path as NSString).deletingLastPathComponent
        let fd = open(directory.isEmpty ? "." : directory, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }

    static func fileSize(_ path: String) -> Int64 {
        var s = stat()
        return stat(path, &s) == 0 ? Int64(s.st_size) : 0
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}
