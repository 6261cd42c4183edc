import Crypto
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The master key a process found (or made) and where it came from, and the check that it is the key the store's
/// secrets were sealed under. A store records its master key's fingerprint when first opened; a process holding
/// another key refuses to start, and a process holding none never makes a new one for a store that has one.
public struct MasterKey: Sendable {
    public enum Source: Sendable, Equatable {
        case environment
        case file(String)
        /// Made now, not yet written: written to `master.key` only once the store is known to have no other key.
        case new(path: String)
    }

    public let box: SecretBox
    public let source: Source

    public struct Mismatch: Error, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    /// `PETREL_MASTER_KEY`, else `master.key` in the data directory, else a new key (not yet written).
    public static func find(dataDir: String, environment: [String: String]) throws -> MasterKey {
        if let text = environment["PETREL_MASTER_KEY"], !text.isEmpty {
            return MasterKey(
                box: try SecretBox.loadMasterKey(dataDir: dataDir, environment: environment),
                source: .environment
            )
        }
        let path = (dataDir as NSString).appendingPathComponent("master.key")
        if FileManager.default.fileExists(atPath: path) {
            return MasterKey(
                box: try SecretBox.loadMasterKey(dataDir: dataDir, environment: environment),
                source: .file(path)
            )
        }
        var bytes = [UInt8](repeating: 0, count: 32)
        var rng = SystemRandomNumberGenerator()
        for i in bytes.indices { bytes[i] = rng.next() }
        return MasterKey(box: try SecretBox(key: bytes), source: .new(path: path))
    }

    /// Writes a new key to `master.key` (0600); false if another process wrote one first (then use that one).
    func persist() throws -> Bool {
        guard case .new(let path) = source else { return true }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        if fd < 0 {
            if errno == EEXIST { return false }
            throw Mismatch(description: "could not create \(path): \(String(cString: strerror(errno)))")
        }
        let text = Array((SecretBox.hexString(box.keyBytes) + "\n").utf8)
        let written = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        fsync(fd)
        close(fd)
        guard written == text.count else { throw Mismatch(description: "could not write \(path)") }
        return true
    }

    /// Checks this key against the fingerprint `store` recorded, records it if none is, and writes a new key to
    /// its file once it is known to be the store's. False when another process made the key file first: the caller
    /// opens the store again with that one.
    public func adopt(by store: any KeyStore) async throws -> Bool {
        let mine = box.fingerprint
        if let recorded = try await store.masterKeyFingerprint() {
            guard recorded == mine else { throw mismatch(recorded: recorded) }
        } else {
            // A store from before fingerprints (or a new one): its sealed secrets say whether this is its key.
            do {
                _ = try await store.accessKeys()
            } catch is CryptoKitError {
                throw mismatch(recorded: nil)
            }
        }
        guard try persist() else { return false }
        let recorded = try await store.recordMasterKeyFingerprint(mine)
        guard recorded == mine else { throw mismatch(recorded: recorded) }
        return true
    }

    func mismatch(recorded: String?) -> Mismatch {
        let theirs = recorded.map { "the key with fingerprint \($0)" } ?? "another master key"
        switch source {
        case .environment:
            return Mismatch(
                description: """
                    PETREL_MASTER_KEY is not this store's master key: its secrets are sealed under \(theirs), and \
                    PETREL_MASTER_KEY has fingerprint \(box.fingerprint). Give every node and command the store's key.
                    """
            )
        case .file(let path):
            return Mismatch(
                description: """
                    \(path) is not this store's master key: its secrets are sealed under \(theirs), and that file has \
                    fingerprint \(box.fingerprint). Set PETREL_MASTER_KEY to the store's key (64 hex digits).
                    """
            )
        case .new:
            return Mismatch(
                description: """
                    this store already has a master key (\(theirs)) and none was given: set PETREL_MASTER_KEY to it \
                    (64 hex digits, as in master.key of the node that made the store). No new master key was made.
                    """
            )
        }
    }
}

extension SecretBox {
    /// Names the key without revealing it: the first 8 bytes of HMAC-SHA256(key, "petrel master key"), hex.
    public var fingerprint: String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array("petrel master key".utf8), using: key)
        return SecretBox.hexString(Array(mac.prefix(8)))
    }
}
