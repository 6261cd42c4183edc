import Crypto
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Encrypts access-key secrets at rest with AES-256-GCM under the master key.
public struct SecretBox: Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    let keyBytes: [UInt8]
    var key: SymmetricKey { SymmetricKey(data: keyBytes) }

    public init(key: [UInt8]) throws {
        guard key.count == 32 else { throw Failure(description: "the master key must be 32 bytes") }
        self.keyBytes = key
    }

    public func seal(_ plain: String) throws -> [UInt8] {
        let box = try AES.GCM.seal(Array(plain.utf8), using: key)
        guard let combined = box.combined else { throw Failure(description: "AES-GCM produced no output") }
        return Array(combined)
    }

    public func open(_ sealed: [UInt8]) throws -> String {
        let box = try AES.GCM.SealedBox(combined: sealed)
        let plain = try AES.GCM.open(box, using: key)
        guard let s = String(validating: Array(plain), as: UTF8.self) else {
            throw Failure(description: "a stored secret is not UTF-8")
        }
        return s
    }

    /// The master key from `PETREL_MASTER_KEY` (64 hex digits or base64 of 32 bytes), else from
    /// `master.key` in the data directory, created with mode 0600 on first use.
    public static func loadMasterKey(dataDir: String, environment: [String: String]) throws -> SecretBox {
        if let text = environment["PETREL_MASTER_KEY"], !text.isEmpty {
            guard let bytes = decodeKey(text) else {
                throw Failure(description: "PETREL_MASTER_KEY must be 64 hex digits or the base64 of 32 bytes")
            }
            return try SecretBox(key: bytes)
        }
        let path = (dataDir as NSString).appendingPathComponent("master.key")
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        if fd >= 0 {
            var bytes = [UInt8](repeating: 0, count: 32)
            var rng = SystemRandomNumberGenerator()
            for i in bytes.indices { bytes[i] = rng.next() }
            let text = Array((hexString(bytes) + "\n").utf8)
            let written = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            fsync(fd)
            Glibc.close(fd)
            guard written == text.count else { throw Failure(description: "could not write \(path)") }
            return try SecretBox(key: bytes)
        }
        // Another process may be creating it right now: wait until it is complete.
        for _ in 0..<50 {
            if let data = FileManager.default.contents(atPath: path),
                let bytes = decodeKey(
                    String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                )
            {
                return try SecretBox(key: bytes)
            }
            usleep(20_000)
        }
        throw Failure(description: "\(path) does not hold a valid master key")
    }

    static func decodeKey(_ text: String) -> [UInt8]? {
        let t = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if t.count == 64, t.allSatisfy(\.isHexDigit) {
            var bytes: [UInt8] = []
            var i = t.startIndex
            while i != t.endIndex {
                let j = t.index(i, offsetBy: 2)
                guard let b = UInt8(t[i..<j], radix: 16) else { return nil }
                bytes.append(b)
                i = j
            }
            return bytes
        }
        if let data = Data(base64Encoded: t), data.count == 32 { return Array(data) }
        return nil
    }

    static func hexString(_ bytes: [UInt8]) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }
}
