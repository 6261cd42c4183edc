import Foundation

/// `server.json` in the data directory: where the server running on it listens, so that the commands that talk to
/// the server (`petrel campaign send`) find it as the others find the store. Written once the server listens (mode
/// 0600), removed when it stops cleanly; one left by a crashed server is found out by the failed connect.
public enum ServerAddressFile {
    public static let fileName = "server.json"

    /// The file cannot be written, or is not what `petrel serve` writes; said in a sentence naming it.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public static func path(dataDir: String) -> String {
        (dataDir as NSString).appendingPathComponent(fileName)
    }

    /// The URL a browser or a script on this machine uses: a wildcard listen address is reached on loopback.
    static func url(host: String, port: Int) -> String {
        let local = host == "0.0.0.0" ? "127.0.0.1" : host == "::" ? "::1" : host
        return "http://\(local.contains(":") ? "[\(local)]" : local):\(port)"
    }

    /// Writes the file whole (a reader never sees half of it): a temporary file made 0600, then renamed.
    static func write(url: String, dataDir: String) throws {
        let data = try JSONSerialization.data(
            withJSONObject: ["url": url, "pid": Int(getpid())],
            options: [.sortedKeys, .withoutEscapingSlashes]
        )
        let target = path(dataDir: dataDir)
        let temporary = target + ".tmp"
        unlink(temporary)
        guard FileManager.default.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: 0o600])
        else { throw Failure(description: "cannot write \(temporary)") }
        guard rename(temporary, target) == 0 else {
            unlink(temporary)
            throw Failure(description: "cannot write \(target): \(String(cString: strerror(errno)))")
        }
    }

    static func remove(dataDir: String) {
        unlink(path(dataDir: dataDir))
    }

    /// The URL a running server wrote, nil when there is no file (no server runs on the directory).
    public static func read(dataDir: String) throws -> String? {
        let file = path(dataDir: dataDir)
        guard let data = FileManager.default.contents(atPath: file) else { return nil }
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
            let url = object["url"] as? String, url.hasPrefix("http://")
        else {
            throw Failure(
                description: "\(file) is not the address file `petrel serve` writes: delete it, or give --server URL"
            )
        }
        return url
    }
}
