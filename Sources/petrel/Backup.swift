import ArgumentParser
import Foundation
import PetrelServer
import PetrelStore

#if canImport(Glibc)
import Glibc
#endif

/// `petrel backup`: an online copy of the SQLite store. The copy holds the database only; its access-key secrets
/// are sealed under the master key, which the command names by fingerprint and copies only when asked.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy the SQLite store to a file, also while a server runs on it (PostgreSQL: pg_dump, see README)."
    )

    @OptionGroup var data: DataDirOption
    @Option(help: "The backup file to write (mode 0600).") var to: String
    @Flag(
        name: .customLong("with-key"),
        help: "Also write the master key beside the backup, as FILE.key (0600). Anyone with both can read the secrets."
    )
    var withKey = false
    @Flag(help: "Replace FILE (and FILE.key) if they exist.") var force = false

    func run() async throws {
        if data.storeURL != nil {
            throw CLIError(
                description: """
                    this data directory uses a PostgreSQL store, and petrel backup copies SQLite stores only: back it \
                    up with pg_dump (or pg_basebackup) and keep the master key (master.key or PETREL_MASTER_KEY) \
                    beside it; see README, Backup
                    """
            )
        }
        try requireStore(data.path)
        let started = Date()
        let summary: SQLiteBackup.Summary
        do {
            summary = try SQLiteBackup.backup(directory: data.path, to: to, replace: force)
        } catch {
            throw CLIError(description: "\(error)")
        }
        let seconds = Date().timeIntervalSince(started)
        print(
            "backed up \(summary.messages) messages (last id \(summary.lastMessageId)) and \(summary.accessKeys) "
                + "access keys to \(to): \(summary.bytes) bytes in \(String(format: "%.2f", seconds)) s"
        )
        guard let fingerprint = summary.masterKeyFingerprint else {
            print(
                "the store records no master key yet: the first petrel serve on a restored copy adopts the key it finds"
            )
            return
        }
        if withKey {
            try writeKey(fingerprint: fingerprint)
        } else {
            warn(
                """
                the backup holds the database only. Its access-key secrets are sealed under the master key with \
                fingerprint \(fingerprint) (\(keyPlace())): keep that key safe apart from the backup. Without it a \
                restored store cannot open its secrets and petrel serve refuses to start. (--with-key writes it \
                beside the backup as \(to).key.)
                """
            )
        }
    }

    /// Where the key comes from, as a person would look for it.
    func keyPlace() -> String {
        let env = ProcessInfo.processInfo.environment["PETREL_MASTER_KEY"] ?? ""
        return env.isEmpty ? "\((data.path as NSString).appendingPathComponent("master.key"))" : "PETREL_MASTER_KEY"
    }

    /// Copies the key this command found (PETREL_MASTER_KEY, else master.key) to FILE.key, once it is known to be
    /// the one the store's secrets are sealed under.
    func writeKey(fingerprint: String) throws {
        let env = ProcessInfo.processInfo.environment
        let text: String
        if let value = env["PETREL_MASTER_KEY"], !value.isEmpty {
            text = value
        } else {
            let path = (data.path as NSString).appendingPathComponent("master.key")
            guard let bytes = FileManager.default.contents(atPath: path) else {
                throw CLIError(description: "--with-key: no master key here (neither PETREL_MASTER_KEY nor \(path))")
            }
            text = String(decoding: bytes, as: UTF8.self)
        }
        guard let box = try? keyBox(text), box.fingerprint == fingerprint else {
            throw CLIError(
                description: """
                    --with-key: the master key in \(keyPlace()) is not the store's (whose fingerprint is \
                    \(fingerprint)); the backup \(to) is written, the key is not
                    """
            )
        }
        let keyFile = to + ".key"
        if !force, FileManager.default.fileExists(atPath: keyFile) {
            throw CLIError(description: "\(keyFile) exists (the backup \(to) is written): pass --force to replace it")
        }
        try writePrivate(text, to: keyFile)
        print("wrote the master key (fingerprint \(fingerprint)) to \(keyFile), mode 0600: keep it as safe as the key")
    }
}

/// `petrel restore`: puts a backup in place as a data directory's store, never under a running server.
struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a backup written by petrel backup into a data directory (no server may run on it)."
    )

    @Option(help: "The backup file.") var from: String
    @Option(name: .customLong("data-dir"), help: "The data directory to restore into (created 0700 if missing).")
    var dataDir: String
    @Option(help: "The backup's master key file to install as master.key (default FILE.key when it exists).")
    var key: String?
    @Flag(help: "Replace a store (and a different master.key) already in the directory.") var force = false

    func run() async throws {
        let lock: Int32
        do {
            // The lock `petrel serve` holds for its life: held here too, no server can start mid-restore.
            lock = try DataDirectory.lockForServing(path: dataDir)
        } catch {
            throw CLIError(description: "\(error): stop it before restoring into \(dataDir), or restore elsewhere")
        }
        defer { close(lock) }
        tightenDirectory()
        let staged: SQLiteBackup.Staged
        do {
            staged = try SQLiteBackup.stage(from: from, into: dataDir, replace: force)
        } catch {
            throw CLIError(description: "\(error)")
        }
        let note: (text: String, important: Bool)?
        do {
            note = try installKey(fingerprint: staged.summary.masterKeyFingerprint)
            try staged.install()
        } catch {
            staged.discard()
            throw error
        }
        let s = staged.summary
        print(
            "restored \(s.messages) messages (last id \(s.lastMessageId)) and \(s.accessKeys) access keys "
                + "into \(SQLiteBackup.storePath(directory: dataDir))"
        )
        if let note {
            if note.important { warn(note.text) } else { print(note.text) }
        }
    }

    var keyPath: String { (dataDir as NSString).appendingPathComponent("master.key") }

    /// The directory holds messages and sealed secrets: for the service's user alone.
    func tightenDirectory() {
        var s = stat()
        guard stat(dataDir, &s) == 0, s.st_mode & 0o077 != 0 else { return }
        chmod(dataDir, 0o700)
        print("made \(dataDir) private to its owner (mode 0700)")
    }

    /// Puts the backup's key in place when one is at hand, else says what the operator must do (the returned note,
    /// printed after the restore). Throws before anything is replaced when a key at hand is the wrong one.
    func installKey(fingerprint: String?) throws -> (text: String, important: Bool)? {
        guard let fingerprint else { return nil }
        let existing = (try? String(contentsOfFile: keyPath, encoding: .utf8)).flatMap { try? keyBox($0) }
        let given = key ?? (FileManager.default.fileExists(atPath: from + ".key") ? from + ".key" : nil)
        if let given {
            guard let text = try? String(contentsOfFile: given, encoding: .utf8), let box = try? keyBox(text) else {
                throw CLIError(description: "\(given) does not hold a master key (64 hex digits or base64 of 32 bytes)")
            }
            guard box.fingerprint == fingerprint else {
                throw CLIError(
                    description: """
                        \(given) is not this backup's master key: it has fingerprint \(box.fingerprint), the \
                        store's secrets are sealed under \(fingerprint)
                        """
                )
            }
            if existing?.fingerprint != fingerprint {
                try setAsideOtherKey(existing)
                try writePrivate(text, to: keyPath)
            }
            return ("the master key from \(given) is in place as \(keyPath) (fingerprint \(fingerprint))", false)
        }
        if existing?.fingerprint == fingerprint {
            return ("\(keyPath) is this store's master key (fingerprint \(fingerprint))", false)
        }
        try setAsideOtherKey(existing)
        let env = ProcessInfo.processInfo.environment["PETREL_MASTER_KEY"] ?? ""
        if !env.isEmpty, (try? keyBox(env))?.fingerprint == fingerprint {
            return ("this store's master key is the PETREL_MASTER_KEY set here: start petrel serve with it set", false)
        }
        let missing = """
            the restored store's access-key secrets are sealed under the master key with fingerprint \
            \(fingerprint), which is not here: before petrel serve, put that key in \(keyPath) (0600) or set \
            PETREL_MASTER_KEY to it. Without it petrel serve refuses to start.
            """
        return (missing, true)
    }

    /// Another store's key in the directory would stop the server (it is not this store's key): with --force it is
    /// kept beside, renamed, since it may be the only copy of the key to that store's other backups.
    func setAsideOtherKey(_ existing: SecretBox?) throws {
        guard let existing else { return }
        guard force else {
            throw CLIError(
                description: """
                    \(keyPath) is another master key (fingerprint \(existing.fingerprint)) than the backup's: pass \
                    --force to set it aside (it is kept as master.key.replaced-TIME)
                    """
            )
        }
        let aside = keyPath + ".replaced-\(Int(Date().timeIntervalSince1970))"
        guard rename(keyPath, aside) == 0 else { throw CLIError(description: "could not rename \(keyPath)") }
        print("set the directory's other master key aside as \(aside)")
    }
}

/// Refuses a data directory with no SQLite store, naming the path (a mistyped --data-dir must not pass silently).
func requireStore(_ path: String) throws {
    let store = SQLiteBackup.storePath(directory: path)
    guard FileManager.default.fileExists(atPath: store) else {
        throw CLIError(description: "there is no Petrel store at \(store) (give --data-dir, or set PETREL_DATA_DIR)")
    }
}

/// A master key as `PETREL_MASTER_KEY` or `master.key` spell it.
func keyBox(_ text: String) throws -> SecretBox {
    try SecretBox.loadMasterKey(dataDir: "", environment: ["PETREL_MASTER_KEY": text])
}

/// Writes `text` (a key) to `path` with mode 0600, through a new file renamed into place.
func writePrivate(_ text: String, to path: String) throws {
    let temp = path + ".partial-\(getpid())"
    unlink(temp)
    let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw CLIError(description: "cannot create \(temp): \(String(cString: strerror(errno)))") }
    let bytes = Array((text.trimmingCharacters(in: .whitespacesAndNewlines) + "\n").utf8)
    let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    let synced = fsync(fd) == 0
    close(fd)
    guard written == bytes.count, synced, rename(temp, path) == 0 else {
        unlink(temp)
        throw CLIError(description: "could not write \(path)")
    }
}

/// A line the operator must not miss, on standard error.
func warn(_ text: String) {
    FileHandle.standardError.write(Data(("IMPORTANT: " + text + "\n").utf8))
}
