import Foundation
import NIOCore
import NIOHTTP1
import PetrelAPI
import PetrelDelivery
import PetrelServer
import PetrelStore

/// The server a command talks to: `--server`, else the one running on the data directory (its `server.json`), so
/// that `campaign send` finds the server the way every command finds the store.
struct ServerAddress {
    let url: String
    let endpoint: WebhookClient.Endpoint
    /// Where the address came from, for the sentence when nothing answers there.
    let source: String
    let fromFile: Bool
    let dataDir: String

    static func find(flag: String?, data: DataDirOption) throws -> ServerAddress {
        let dir = data.path
        if let flag {
            return try make(flag, source: "--server", fromFile: false, dataDir: dir)
        }
        let shown = describe(dir)
        let url: String?
        do {
            url = try ServerAddressFile.read(dataDir: dir)
        } catch {
            throw CLIError(description: "\(error)")
        }
        guard let url else {
            var isDirectory: ObjCBool = false
            let there =
                FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory) && isDirectory.boolValue
            let what =
                there
                ? "no server runs on \(shown) (it has no \(ServerAddressFile.fileName))"
                : "no data directory at \(shown)"
            throw CLIError(
                description: """
                    \(what); the data directory comes from --data-dir, else PETREL_DATA_DIR, else ./petrel-data. \
                    Start `petrel serve --data-dir \(dir)`, or give the server's address with --server URL
                    """
            )
        }
        return try make(url, source: ServerAddressFile.path(dataDir: dir), fromFile: true, dataDir: dir)
    }

    static func make(_ url: String, source: String, fromFile: Bool, dataDir: String) throws -> ServerAddress {
        let trimmed = url.hasSuffix("/") ? String(url.dropLast()) : url
        guard let endpoint = WebhookClient.Endpoint(url: trimmed + "/") else {
            throw CLIError(description: "\(source) must be an http[s]://HOST:PORT URL, not \(url)")
        }
        return ServerAddress(url: trimmed, endpoint: endpoint, source: source, fromFile: fromFile, dataDir: dataDir)
    }

    /// Nothing (or no Petrel) answers at the address: say where it came from and which flag to give.
    func unreachable(_ reason: String) -> CLIError {
        if fromFile {
            return CLIError(
                description: """
                    no Petrel server answers at \(url), the address in \(source) (a server that stopped without \
                    removing it?): \(reason). Start `petrel serve --data-dir \(dataDir)`, or give the server's \
                    address with --server URL
                    """
            )
        }
        return CLIError(description: "no Petrel server answers at \(url) (--server): \(reason). Check the address")
    }

    /// The path as given, and where it resolves when it is relative.
    static func describe(_ path: String) -> String {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        return absolute == path ? path : "\(path) (\(absolute))"
    }
}

/// The key a command signs in with: --key-id/--key-secret, else PETREL_ACCESS_KEY_ID/_SECRET, else a key of the
/// account read from the store. Whoever can open the store holds its master key, so can read every secret in it.
enum CommandKey {
    static func find(
        id: String?,
        secret: String?,
        account: String?,
        action: String,
        data: DataDirOption
    ) async throws -> (id: String, secret: String) {
        let env = ProcessInfo.processInfo.environment
        func given(_ flag: String?, _ name: String) -> String? {
            if let flag, !flag.isEmpty { return flag }
            return env[name].flatMap { $0.isEmpty ? nil : $0 }
        }
        let givenId = given(id, "PETREL_ACCESS_KEY_ID")
        let givenSecret = given(secret, "PETREL_ACCESS_KEY_SECRET")
        if let givenId, let givenSecret { return (givenId, givenSecret) }
        if givenId != nil || givenSecret != nil {
            throw CLIError(
                description:
                    "give both --key-id and --key-secret (or PETREL_ACCESS_KEY_ID and PETREL_ACCESS_KEY_SECRET)"
            )
        }
        let keys: [AccessKeyRecord]
        do {
            keys = try await withStore(data) { try await $0.accessKeys() }
        } catch let missing as DataDirectory.Missing {
            throw CLIError(description: "\(missing); or give a key with --key-id and --key-secret")
        }
        let key = try pick(keys, account: account, action: action)
        return (key.id, key.secret)
    }

    /// The oldest enabled key of the account that may do `action`; the account is `account`, else the only one
    /// with such a key.
    static func pick(_ keys: [AccessKeyRecord], account: String?, action: String) throws -> AccessKeyRecord {
        let usable = keys.filter { $0.enabled && Policy.allows($0.policy, action: action, account: $0.account) }
            .sorted { ($0.createdAtMs, $0.id) < ($1.createdAtMs, $1.id) }
        let accounts = Set(usable.map(\.account)).sorted()
        guard let chosen = account ?? (accounts.count == 1 ? accounts.first : nil) else {
            if accounts.isEmpty {
                throw CLIError(
                    description: """
                        the store has no enabled key allowed \(action); make one with `petrel keys create --name \
                        NAME`, or give a key with --key-id and --key-secret
                        """
                )
            }
            throw CLIError(
                description: """
                    the store has keys of several accounts (\(accounts.prefix(20).joined(separator: ", "))): say \
                    which to send as with --account, or give a key with --key-id and --key-secret
                    """
            )
        }
        guard let key = usable.first(where: { $0.account == chosen }) else {
            throw CLIError(
                description: """
                    account \(chosen) has no enabled key allowed \(action); make one with `petrel keys create --name \
                    NAME --account \(chosen)`, or give a key with --key-id and --key-secret
                    """
            )
        }
        return key
    }
}

/// A signed-in console session, for scripts.
struct ConsoleClient {
    let endpoint: WebhookClient.Endpoint
    let cookie: String
    let csrf: String
    let client = WebhookClient()

    static func signIn(server: ServerAddress, keyId: String, secret: String) async throws -> ConsoleClient {
        let endpoint = server.endpoint
        let body = Array(FormEncoding.canonicalQuery([("key_id", keyId), ("key_secret", secret)]).utf8)
        let r: WebhookClient.Response
        do {
            r = try await WebhookClient().request(
                .POST,
                endpoint.at(path: "/console/api/session"),
                body: body,
                headers: [("Content-Type", "application/x-www-form-urlencoded")],
                timeout: .seconds(10),
                peer: "the server"
            )
        } catch let failure as WebhookClient.Failure {
            throw server.unreachable(failure.description)
        }
        // Something that is not Petrel answers there (another program on the port, or a proxy's error page).
        guard (try? JSONSerialization.jsonObject(with: Data(r.body))) is [String: Any] else {
            throw server.unreachable("what answers there is not Petrel (HTTP \(r.status), not a console session)")
        }
        let fields = try Self.decode(r)
        guard let setCookie = r.headers.first(where: { $0.0.lowercased() == "set-cookie" })?.1,
            let cookie = setCookie.split(separator: ";").first, let csrf = fields["Csrf"]
        else { throw CLIError(description: "the server did not open a console session") }
        return ConsoleClient(endpoint: endpoint, cookie: String(cookie), csrf: csrf)
    }

    func call(
        _ method: HTTPMethod,
        _ path: String,
        body: [UInt8] = [],
        type: String = "application/x-www-form-urlencoded"
    ) async throws -> [String: String] {
        let r = try await client.request(
            method,
            endpoint.at(path: path),
            body: body,
            headers: [("Content-Type", type), ("Cookie", cookie), ("X-CSRF-Token", csrf)],
            timeout: .seconds(300),
            maxBody: 1 << 20
        )
        return try Self.decode(r)
    }

    static func decode(_ r: WebhookClient.Response) throws -> [String: String] {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(r.body))) as? [String: Any] else {
            throw CLIError(
                description: "unexpected answer \(r.status): \(String(decoding: r.body.prefix(300), as: UTF8.self))"
            )
        }
        var fields: [String: String] = [:]
        for (k, v) in object { fields[k] = v as? String ?? "\(v)" }
        guard r.status == 200 else {
            throw CLIError(
                description:
                    "\(r.status) \(fields["Code"] ?? ""): \(fields["Message"] ?? String(decoding: r.body, as: UTF8.self))"
            )
        }
        return fields
    }
}
