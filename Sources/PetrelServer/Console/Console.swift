import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import PetrelAPI
import PetrelCore
import PetrelDelivery
import PetrelStore

/// What the console shows of a channel.
struct ChannelState: Sendable {
    var id: String
    var kind: String
    var target: String
    var bound: Int
    var sessions: Int
    var inFlight: Int
    var window: Int
    var tps: Double
    var accepted = 0
    var refused = 0
    var noResponse = 0
    var connectFailures = 0
    var sessionsClosed = 0
    var lastError = ""
}

/// The web console at /console: sign-in with an access key, then pages that show and act on the signed-in
/// account's data only. Every page needs a session; every POST needs the session's CSRF token.
struct Console: Sendable {
    let store: any MessageStore
    let gateway: Gateway
    let sessions: ConsoleSessions
    let channels: @Sendable () async -> [ChannelState]
    let campaignWake: WakeSignal
    let maxUploadBytes: Int
    var campaignMaxBytes = 256 << 20
    var campaignMaxBytesPerAccount = 1 << 30
    let clock: @Sendable () -> Int64

    typealias Handler = @Sendable (Request, ConsoleSessions.Session) async throws -> Response
    typealias FormHandler = @Sendable (Request, ConsoleSessions.Session, Form) async throws -> Response

    func register(on router: Router<BasicRequestContext>) {
        router.get("/console/static/console.css") { _, _ in Self.asset(Assets.css, type: "text/css; charset=utf-8") }
        router.get("/console/static/console.js") { _, _ in Self.asset(Assets.js, type: "text/javascript; charset=utf-8") }
        router.get("/console/login") { request, _ in self.loginPage(request, error: nil) }
        router.post("/console/login") { request, _ in try await self.login(request) }
        router.post("/console/api/session") { request, _ in try await self.apiSession(request) }
        post("/console/logout", router) { request, session, _ in
            self.sessions.remove(token: session.token)
            return Self.redirect("/console/login", cookie: "\(ConsoleSessions.cookie)=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0")
        }
        registerPages(router)
        registerKeys(router)
        registerInbox(router)
        registerCampaigns(router)
    }

    // MARK: Sessions and CSRF

    func get(_ path: RouterPath, _ router: Router<BasicRequestContext>, _ handler: @escaping Handler) {
        router.get(path) { request, _ in
            guard let session = await self.session(request) else {
                if request.uri.path.hasPrefix("/console/api/") || request.uri.path.hasPrefix("/console/fragment/") {
                    return Self.text("sign in first\n", status: .unauthorized)
                }
                return Self.redirect("/console/login")
            }
            return try await handler(request, session)
        }
    }

    func post(_ path: RouterPath, _ router: Router<BasicRequestContext>, _ handler: @escaping FormHandler) {
        router.post(path) { request, context in
            guard let session = await self.session(request) else { return Self.text("sign in first\n", status: .unauthorized) }
            var request = request
            let form: Form
            do {
                form = try await Form.read(&request, limit: self.maxUploadBytes)
            } catch {
                return Self.text("the upload is larger than \(self.maxUploadBytes) bytes\n", status: .contentTooLarge)
            }
            let token = request.headers[HTTPField.Name("X-CSRF-Token")!] ?? form["csrf"] ?? ""
            guard ConsoleSessions.same(token, session.csrf) else {
                return Self.text("missing or wrong CSRF token: reload the page and try again\n", status: .forbidden)
            }
            return try await handler(request, session, form)
        }
    }

    /// The session named by the cookie, if it exists and its key is still enabled (a disabled or deleted key
    /// signs its sessions out at once).
    func session(_ request: Request) async -> ConsoleSessions.Session? {
        guard let token = Self.cookie(ConsoleSessions.cookie, request), let s = sessions.find(token: token, nowMs: clock()) else {
            return nil
        }
        guard let key = try? await store.accessKey(id: s.keyId), key.enabled, key.account == s.account else {
            sessions.remove(token: token)
            return nil
        }
        return s
    }

    /// The key's policy, to honour in what the console sends on its behalf.
    func policy(_ session: ConsoleSessions.Session) async -> String? {
        (try? await store.accessKey(id: session.keyId))?.policy
    }

    func verify(keyId: String, secret: String) async -> AccessKeyRecord? {
        guard !keyId.isEmpty, let key = try? await store.accessKey(id: keyId), key.enabled,
            ConsoleSessions.same(key.secret, secret)
        else { return nil }
        return key
    }

    // MARK: Sign-in

    static let loginCookie = "petrel_login"

    func loginPage(_ request: Request, error: String?) -> Response {
        // The sign-in form has its own CSRF token (double submit: cookie and field must match).
        let token = ConsoleSessions.random()
        let body = """
            <div class="login">\(error.map { "<p class=\"error\">\(HTML.escape($0))</p>" } ?? "")
            <form method="post" action="/console/login">
            <input type="hidden" name="csrf" value="\(token)">
            <label>Access key id <input name="key_id" id="key_id" autocomplete="username" required></label>
            <label>Access key secret <input name="key_secret" id="key_secret" type="password" autocomplete="current-password" required></label>
            <button type="submit" id="sign-in">Sign in</button>
            </form>
            <p class="muted">Create a key with <code>petrel keys create --name NAME</code>.</p></div>
            """
        var r = Self.html(HTML.page(title: "Sign in", active: "", session: nil, body: body), status: error == nil ? .ok : .unauthorized)
        r.headers.append(HTTPField(name: .setCookie, value: "\(Self.loginCookie)=\(token); Path=/console/login; HttpOnly; SameSite=Strict"))
        return r
    }

    func login(_ request: Request) async throws -> Response {
        var request = request
        let form = try await Form.read(&request, limit: 64 * 1024)
        guard let cookie = Self.cookie(Self.loginCookie, request), ConsoleSessions.same(cookie, form["csrf"] ?? "") else {
            return loginPage(request, error: "The sign-in form expired; please try again.")
        }
        guard let key = await verify(keyId: form["key_id"] ?? "", secret: form["key_secret"] ?? "") else {
            return loginPage(request, error: "Unknown or disabled access key, or wrong secret.")
        }
        let s = sessions.create(keyId: key.id, account: key.account, nowMs: clock())
        return Self.redirect("/console", cookie: sessionCookie(s))
    }

    /// For scripts (`petrel campaign send`): the key in the form, a session cookie and its CSRF token back.
    func apiSession(_ request: Request) async throws -> Response {
        var request = request
        let form = try await Form.read(&request, limit: 64 * 1024)
        guard let key = await verify(keyId: form["key_id"] ?? "", secret: form["key_secret"] ?? "") else {
            return Self.jsonError("InvalidAccessKeyId", "Unknown or disabled access key, or wrong secret.", status: .unauthorized)
        }
        let s = sessions.create(keyId: key.id, account: key.account, nowMs: clock())
        var r = Self.json(Self.jsonObject([("Csrf", s.csrf), ("Account", s.account)]))
        r.headers.append(HTTPField(name: .setCookie, value: sessionCookie(s)))
        return r
    }

    func sessionCookie(_ s: ConsoleSessions.Session) -> String {
        "\(ConsoleSessions.cookie)=\(s.token); Path=/console; HttpOnly; SameSite=Strict"
    }

    // MARK: Responses

    static let securityHeaders: HTTPFields = [
        .contentSecurityPolicy: "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
        HTTPField.Name("X-Content-Type-Options")!: "nosniff",
        HTTPField.Name("Referrer-Policy")!: "same-origin",
        .cacheControl: "no-store",
    ]

    static func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers = securityHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func text(_ text: String, status: HTTPResponse.Status = .ok, type: String = "text/plain; charset=utf-8") -> Response {
        var headers = securityHeaders
        headers[.contentType] = type
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func json(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Self.text(text, status: status, type: "application/json")
    }

    static func jsonObject(_ fields: [(String, String)]) -> String {
        String(decoding: ResponseEncoder.encode(fields.map { ($0.0, ResponseValue.string($0.1)) }, root: "", format: .json), as: UTF8.self)
    }

    static func jsonError(_ code: String, _ message: String, status: HTTPResponse.Status) -> Response {
        json(jsonObject([("Code", code), ("Message", message)]), status: status)
    }

    static func asset(_ text: String, type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type, .cacheControl: "max-age=300"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func redirect(_ location: String, cookie: String? = nil) -> Response {
        var headers = securityHeaders
        headers[.location] = location
        if let cookie { headers.append(HTTPField(name: .setCookie, value: cookie)) }
        return Response(status: .seeOther, headers: headers)
    }

    /// The path component after `segment`: the id in `/console/campaigns/7/start` after "campaigns".
    static func pathComponent(_ request: Request, after segment: String) -> String {
        let parts = request.uri.path.split(separator: "/")
        guard let i = parts.firstIndex(of: Substring(segment)), i + 1 < parts.count else { return "" }
        return String(parts[i + 1])
    }

    static func cookie(_ name: String, _ request: Request) -> String? {
        for header in request.headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let kv = pair.split(separator: "=", maxSplits: 1)
                if kv.count == 2, kv[0].trimmingCharacters(in: CharacterSet(charactersIn: " ")) == name { return String(kv[1]).trimmingCharacters(in: CharacterSet(charactersIn: " ")) }
            }
        }
        return nil
    }
}

/// A POSTed form: url-encoded fields, or multipart fields with files.
struct Form: Sendable {
    var fields: [String: String] = [:]
    var files: [String: (filename: String, data: [UInt8])] = [:]

    subscript(_ name: String) -> String? { fields[name] }

    static func read(_ request: inout Request, limit: Int) async throws -> Form {
        let body = try await request.collectBody(upTo: limit)
        let bytes = Array(buffer: body)
        var form = Form()
        let type = request.headers[.contentType] ?? ""
        if let boundary = Multipart.boundary(contentType: type) {
            for part in Multipart.parse(bytes, boundary: boundary) ?? [] {
                if let name = part.filename {
                    form.files[part.name] = (name, Array(part.data))
                } else {
                    form.fields[part.name] = part.text
                }
            }
        } else if type.lowercased().hasPrefix("application/x-www-form-urlencoded") {
            for (k, v) in (try? FormEncoding.decode(String(decoding: bytes, as: UTF8.self))) ?? [] where form.fields[k] == nil {
                form.fields[k] = v
            }
        } else {
            form.files["body"] = ("body", bytes)
        }
        return form
    }
}
