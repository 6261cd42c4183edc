import Foundation
public import PetrelStore

/// Opens the data directory every command shares: the master key, and the store (SQLite inside it, or the
/// PostgreSQL database `storeURL` names).
public enum DataDirectory {
    /// What opening does when there is no store yet. Only `petrel serve` and the commands told to (`keys create
    /// --init-store`) create one: a mistyped `--data-dir` must not quietly become a second store with its own
    /// master key.
    public enum Opening: Sendable {
        case createIfMissing
        case existingOnly
    }

    /// No store where a command looked, said in a sentence that names the place.
    public struct Missing: Error, CustomStringConvertible {
        public let description: String
    }

    public static func openStore(
        path: String,
        storeURL: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        opening: Opening = .createIfMissing,
        trackedSends: Int? = nil
    ) async throws -> any MessageStore {
        if opening == .existingOnly {
            try checkExisting(path: path, storeURL: storeURL, environment: environment)
        } else {
            try makeDirectory(path)
        }
        // Twice at most: a second process may write master.key between our look and our write.
        for _ in 0..<2 {
            let key = try MasterKey.find(dataDir: path, environment: environment)
            let store: any MessageStore
            do {
                store =
                    if let storeURL {
                        try await PostgresStore(
                            url: storeURL,
                            secrets: key.box,
                            schema: opening == .existingOnly ? .existingOnly : .create,
                            trackedSends: trackedSends ?? SQLiteStore.defaultTrackedSends
                        )
                    } else {
                        try SQLiteStore(
                            directory: path,
                            secrets: key.box,
                            trackedSends: trackedSends ?? SQLiteStore.defaultTrackedSends
                        )
                    }
            } catch is PostgresStore.NotSetUp {
                // Refused before the schema was made: the database is left as it was.
                throw notSetUp
            }
            do {
                // A database whose schema a server made but never finished starting has no master-key fingerprint.
                if opening == .existingOnly, storeURL != nil, try await store.masterKeyFingerprint() == nil {
                    throw notSetUp
                }
                if try await key.adopt(by: store) { return store }
                try await store.close()
            } catch {
                try? await store.close()
                throw error
            }
        }
        throw MasterKey.Mismatch(description: "\(path)/master.key changed while this process was starting; try again")
    }

    static let notSetUp = Missing(
        description: """
            the PostgreSQL store (--store or PETREL_STORE) has not been set up by a server yet: start `petrel serve` \
            on it once
            """
    )

    /// Refuses, naming the path, a data directory without a store or without the store's master key.
    static func checkExisting(path: String, storeURL: String?, environment: [String: String]) throws {
        let shown = describe(path)
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        if storeURL == nil {
            guard exists, isDirectory.boolValue else {
                throw Missing(
                    description: """
                        no data directory at \(shown) (from --data-dir, else PETREL_DATA_DIR, else ./petrel-data). \
                        Give the directory `petrel serve` uses, or start `petrel serve --data-dir \(path)` once to \
                        make a store there
                        """
                )
            }
            let file = (path as NSString).appendingPathComponent(SQLiteStore.fileName)
            guard FileManager.default.fileExists(atPath: file) else {
                throw Missing(
                    description: """
                        no Petrel store in \(shown): it has no \(SQLiteStore.fileName) (the directory comes from \
                        --data-dir, else PETREL_DATA_DIR, else ./petrel-data). Give the directory `petrel serve` \
                        uses, or start `petrel serve --data-dir \(path)` once to make a store there
                        """
                )
            }
        }
        let hasKeyFile = FileManager.default.fileExists(
            atPath: (path as NSString).appendingPathComponent("master.key")
        )
        guard hasKeyFile || !(environment["PETREL_MASTER_KEY"] ?? "").isEmpty else {
            throw Missing(
                description: """
                    no master key: \(shown) has no master.key and PETREL_MASTER_KEY is not set (the data directory \
                    comes from --data-dir, else PETREL_DATA_DIR, else ./petrel-data). Set PETREL_MASTER_KEY to the \
                    store's key (64 hex digits), or give the data directory that holds it
                    """
            )
        }
    }

    /// The path as given, and where it resolves when it is relative (the usual surprise is the working directory).
    static func describe(_ path: String) -> String {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        return absolute == path ? path : "\(path) (\(absolute))"
    }

    /// Creates the data directory for the service's user alone (0700). An existing directory is left as it is: it
    /// may be shared with other things (the files Petrel puts in it are 0600 whatever the directory's mode).
    static func makeDirectory(_ path: String) throws {
        try FileManager.default.createDirectory(
            atPath: path,
            withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700]
        )
    }

    /// Holds an exclusive lock on `serve.lock` for the life of the process, so two servers never share a data
    /// directory (both would dispatch the same queue). Other commands do not take it.
    public static func lockForServing(path: String) throws -> Int32 {
        try makeDirectory(path)
        let lockPath = (path as NSString).appendingPathComponent("serve.lock")
        let fd = open(lockPath, O_RDWR | O_CREAT, 0o600)
        guard fd >= 0 else { throw StoreError.invalidLocation("cannot open \(lockPath)") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw StoreError.invalidLocation("another petrel serve is running on \(path)")
        }
        return fd
    }
}
