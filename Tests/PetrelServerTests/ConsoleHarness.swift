import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import PetrelAPI
import PetrelCore
import PetrelDelivery
import PetrelStore
import Testing

@testable import PetrelServer

/// The console and the sandbox routes on a temporary SQLite store, wired as `PetrelServer.serve` wires them, for
/// `app.test(.router)`. The clock stands still, so pages are the same from run to run.
struct ConsoleHarness: Sendable {
    static let now: Int64 = 1_795_000_000_000
    static let keyId = "LTAIconsole0000001"
    static let secret = "console-secret-0000000001"

    let store: SQLiteStore
    let console: Console
    let sandbox: SandboxRoutes

    static func run<T>(
        retrospection: ServerConfiguration.Retrospection = .authenticated,
        channels: [ChannelState] = [],
        waitReason: @escaping @Sendable (Message, Int64) -> String? = { _, _ in nil },
        sendLimits: SendLimits? = nil,
        signs: SignSettings = SignSettings(),
        _ body: (ConsoleHarness) async throws -> T
    ) async throws -> T {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("petrel-console-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try SQLiteStore(directory: dir, secrets: try SecretBox(key: Array(repeating: 5, count: 32)))
        do {
            let result = try await body(
                try await make(
                    store,
                    retrospection: retrospection,
                    channels: channels,
                    waitReason: waitReason,
                    sendLimits: sendLimits,
                    signs: signs
                )
            )
            try await store.close()
            return result
        } catch {
            try? await store.close()
            throw error
        }
    }

    static func make(
        _ store: SQLiteStore,
        retrospection: ServerConfiguration.Retrospection,
        channels: [ChannelState],
        waitReason: @escaping @Sendable (Message, Int64) -> String? = { _, _ in nil },
        sendLimits: SendLimits? = nil,
        signs: SignSettings = SignSettings()
    ) async throws -> ConsoleHarness {
        let clock: @Sendable () -> Int64 = { ConsoleHarness.now }
        try await store.putAccessKey(
            AccessKeyRecord(id: keyId, secret: secret, account: "acme", name: "admin", createdAtMs: now - 86_400_000)
        )
        let env = APIEnvironment(
            store: store,
            ids: MessageIDGenerator(node: 1, floor: 0),
            channels: { ["sandbox"] },
            limits: { _ in sendLimits },
            signs: signs
        )
        let gateway = Gateway(env: env, nonces: NonceGuard(), throttle: Throttle(limits: [:]), clock: clock)
        let auth = KeyAuth(store: store, sessions: ConsoleSessions(), throttle: SignInThrottle(), clock: clock)
        let console = Console(
            store: store,
            gateway: gateway,
            auth: auth,
            channels: { channels },
            campaignWake: WakeSignal(),
            maxUploadBytes: 1 << 20,
            secureCookies: false,
            clock: clock,
            waitReason: waitReason
        )
        let sandbox = SandboxRoutes(store: store, auth: auth, mode: retrospection)
        return ConsoleHarness(store: store, console: console, sandbox: sandbox)
    }

    /// Runs `body` against the router (no sockets).
    func test<T: Sendable>(_ body: @Sendable @escaping (any TestClientProtocol) async throws -> T) async throws -> T {
        let router = Router(context: PetrelRequestContext.self)
        sandbox.register(on: router)
        console.register(on: router)
        return try await Application(router: router).test(.router) { client in try await body(client) }
    }

    /// A policy that allows `actions` only.
    static func policy(_ actions: String...) -> String {
        let list = actions.map { "\"\($0)\"" }.joined(separator: ",")
        return #"{"Version":"1","Statement":[{"Effect":"Allow","Action":["# + list + #"],"Resource":"*"}]}"#
    }

    /// A session for `keyId`, as `petrel campaign send` gets one: its cookie header and CSRF token.
    static func signIn(
        _ client: any TestClientProtocol,
        keyId: String = keyId,
        secret: String = secret
    ) async throws -> (cookie: String, csrf: String) {
        let r = try await client.execute(
            uri: "/console/api/session",
            method: .post,
            headers: [.contentType: "application/x-www-form-urlencoded"],
            body: ByteBuffer(string: "key_id=\(keyId)&key_secret=\(secret)")
        )
        #expect(r.status == .ok)
        let json = try JSONSerialization.jsonObject(with: Data(r.text.utf8)) as? [String: String] ?? [:]
        let cookie = try #require(r.headers[.setCookie]?.split(separator: ";").first.map(String.init))
        return (cookie, json["Csrf"] ?? "")
    }

    /// A form POST with the session's cookie and, unless `csrf` is nil, its token.
    static func post(
        _ client: any TestClientProtocol,
        _ uri: String,
        cookie: String,
        csrf: String?,
        _ fields: [(String, String)] = [],
        headers extra: HTTPFields = [:]
    ) async throws -> TestResponse {
        var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded", .cookie: cookie]
        headers.append(contentsOf: extra)
        let all = (csrf.map { [("csrf", $0)] } ?? []) + fields
        let body = all.map { "\(FormEncoding.percentEncode($0.0))=\(FormEncoding.percentEncode($0.1))" }
            .joined(separator: "&")
        return try await client.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: body))
    }

    static func get(_ client: any TestClientProtocol, _ uri: String, cookie: String) async throws -> TestResponse {
        try await client.execute(uri: uri, method: .get, headers: [.cookie: cookie])
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }
}
