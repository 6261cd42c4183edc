import Foundation
public import PetrelStore

/// Opens the data directory every command shares: the master key, and the store (SQLite inside it, or the
/// PostgreSQL database `storeURL` names).
public enum DataDirectory {
    public static func openStore(
        path: String, storeURL: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment
    ) async throws -> any MessageStore {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let box = try SecretBox.loadMasterKey(dataDir: path, environment: environment)
        guard let storeURL else { return try SQLiteStore(directory: path, secrets: box) }
        return try await PostgresStore(url: storeURL, secrets: box)
    }

    /// Holds an exclusive lock on `serve.lock` for the life of the process, so two servers never share a data
    /// directory (both would dispatch the same queue). Other commands do not take it.
    public static func lockForServing(path: String) throws -> Int32 {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
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
