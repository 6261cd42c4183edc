import Foundation
public import PetrelStore

/// Opens the data directory every command shares: the master key, and the store (SQLite inside it, or the
/// PostgreSQL database `storeURL` names).
public enum DataDirectory {
    public static func openStore(
        path: String,
        storeURL: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) async throws -> any MessageStore {
        try makeDirectory(path)
        // Twice at most: a second process may write master.key between our look and our write.
        for _ in 0..<2 {
            let key = try MasterKey.find(dataDir: path, environment: environment)
            let store: any MessageStore =
                if let storeURL { try await PostgresStore(url: storeURL, secrets: key.box) } else {
                    try SQLiteStore(directory: path, secrets: key.box)
                }
            do {
                if try await key.adopt(by: store) { return store }
                try await store.close()
            } catch {
                try? await store.close()
                throw error
            }
        }
        throw MasterKey.Mismatch(description: "\(path)/master.key changed while this process was starting; try again")
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
