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

/// The store roles the console shows and acts on (everything but the dispatch queue, receipts and nodes).
typealias ConsoleStore =
    MessageLookup & MessageHistory & ConsoleQueries & KeyStore & TemplateStore & ReceiptOutbox & OutboxOperations
    & CampaignStore
    & SandboxInbox & SendLimitLog & PumpingGuardLog & InboundLog & SuppressionList & SignStore & SMPPReceiptOutbox
    & StatisticsStore & SMPPMOOutbox

/// The web console at /console: sign-in with an access key, then pages that show and act on the signed-in
/// account's data only, each as far as the key's policy allows (`ConsoleAction`). Every page needs a session;
/// every POST needs the session's CSRF token and must come from this site (`KeyAuth.sameOrigin`).
struct Console: Sendable {
    let store: any ConsoleStore
    let gateway: Gateway
    let auth: KeyAuth
    let channels: @Sendable () async -> [ChannelState]
    let campaignWake: WakeSignal
    let maxUploadBytes: Int
    /// `console.secureCookies`: mark cookies Secure even when the request does not show TLS (a TLS proxy).
    let secureCookies: Bool
    var campaignMaxBytes = 256 << 20
    var campaignMaxBytesPerAccount = 1 << 30
    let clock: @Sendable () -> Int64
    /// Why a queued message waits, as this process's dispatcher sees it now (nil: nothing here holds it back, or
    /// this node does not dispatch).
    var waitReason: @Sendable (Message, Int64) -> String? = { _, _ in nil }
    /// Where the sandbox inbox's reply box delivers (as POST /sandbox/inbound); nil: no reply box.
    var inbound: InboundProcessor? = nil
    /// `optOut.maxPhones`, for the Opt-out page's form.
    var optOutMaxPhones = 1_000_000
    /// `api.dateOffset`: the zone of the times every page shows and every time field reads (`HTML.time`), the one
    /// the API answers the account in (SendDate).
    var dateOffsetSeconds = 0
    /// `smppServer:`, for its section of the Channels page; nil: no SMPP server.
    var smppServer: SMPPServerWatch? = nil
    /// This node's recent pushes, for the Receipts page; nil: none kept.
    var pushLog: PushLog? = nil
    /// `receipts:` (timeout and TLS), for the test receipt.
    var push = PushConfiguration()

    var sessions: ConsoleSessions { auth.sessions }

    /// The sign-in forms are small: their bodies are read no further than this.
    static let loginBodyBytes = 4 * 1024
    /// A larger form body is read on only after its first bytes showed the right CSRF token.
    static let checkedPrefixBytes = 64 * 1024

    typealias Handler = @Sendable (Request, ConsoleSessions.Session) async throws -> Response
    typealias FormHandler = @Sendable (Request, ConsoleSessions.Session, Form) async throws -> Response

    func register(on router: Router<PetrelRequestContext>) {
        router.get("/console/static/console.css") { _, _ in
            Self.asset(Assets.css, type: "text/css; charset=utf-8")
        }
        router.get("/console/static/console.js") { _, _ in
            Self.asset(Assets.js, type: "text/javascript; charset=utf-8")
        }
        router.get("/console/login") { request, _ in self.loginPage(request, error: nil) }
        router.post("/console/login") { request, context in
            try await self.login(request, address: context.clientAddress)
        }
        router.post("/console/api/session") { request, context in
            try await self.apiSession(request, address: context.clientAddress)
        }
        post("/console/logout", router, needs: nil) { request, session, _ in
            self.sessions.remove(token: session.token)
            let cookie = "\(ConsoleSessions.cookie)=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0"
            return Self.redirect("/console/login", cookie: cookie + (self.secure(request) ? "; Secure" : ""))
        }
        registerPages(router)
        registerStatistics(router)
        registerKeys(router)
        registerInbox(router)
        registerInbound(router)
        registerCampaigns(router)
        registerWebhooks(router)
        registerLimits(router)
        registerApprovals(router)
    }

    // MARK: Sessions, rights and CSRF

    /// A page for keys whose policy allows `needs` (nil: any signed-in key).
    func get(_ path: RouterPath, _ router: Router<PetrelRequestContext>, needs: String?, _ handler: @escaping Handler) {
        router.get(path) { request, _ in
            guard let session = await self.auth.session(request) else {
                if request.uri.path.hasPrefix("/console/api/") || request.uri.path.hasPrefix("/console/fragment/") {
                    return Self.text("sign in first\n", status: .unauthorized)
                }
                return Self.redirect("/console/login")
            }
            if let needs, !session.may(needs) { return Self.forbidden(request, session, needs) }
            return try await self.withBanner(request, session) { try await handler(request, session) }
        }
    }

    /// A form for keys whose policy allows `needs` (nil: any signed-in key). The session, the policy, the origin and
    /// (for a body over `checkedPrefixBytes`) the CSRF token are checked before the body is read to its end.
    func post(
        _ path: RouterPath,
        _ router: Router<PetrelRequestContext>,
        needs: String?,
        _ handler: @escaping FormHandler
    ) {
        router.post(path) { request, context in
            guard let session = await self.auth.session(request) else {
                return Self.text("sign in first\n", status: .unauthorized)
            }
            if let needs, !session.may(needs) { return Self.forbidden(request, session, needs) }
            guard KeyAuth.sameOrigin(request) else { return Self.crossSite() }
            let header = request.headers[HTTPField.Name("X-CSRF-Token")!]
            let form: Form
            let limit = self.maxUploadBytes
            let read = await Form.read(request, limit: limit, checkAfter: Self.checkedPrefixBytes) { prefix in
                ConsoleSessions.same(header ?? prefix["csrf"] ?? "", session.csrf)
            }
            switch read {
            case .form(let f): form = f
            case .tooLarge:
                return Self.text("the upload is larger than \(self.maxUploadBytes) bytes\n", status: .contentTooLarge)
            case .malformed(let why): return Self.text(why + "\n", status: .badRequest)
            case .refused: return Self.csrfRefused()
            }
            guard ConsoleSessions.same(header ?? form["csrf"] ?? "", session.csrf) else { return Self.csrfRefused() }
            return try await self.withBanner(request, session) { try await handler(request, session, form) }
        }
    }

    /// Runs `render` in the console's zone, with the cap banner set for the page it may render.
    func withBanner(
        _ request: Request,
        _ session: ConsoleSessions.Session,
        _ render: () async throws -> Response
    ) async throws -> Response {
        // Scripts (`petrel campaign send --start`) speak UTC through /console/api/; people read and type local time.
        let offset = request.uri.path.hasPrefix("/console/api/") ? 0 : dateOffsetSeconds
        return try await HTML.$offsetSeconds.withValue(offset) {
            guard Self.showsBanner(request.uri.path) else { return try await render() }
            return try await Self.$banner.withValue(await capBanner(session)) { try await render() }
        }
    }

    static func csrfRefused() -> Response {
        text("missing or wrong CSRF token: reload the page and try again\n", status: .forbidden)
    }

    static func crossSite() -> Response {
        text(
            "refused: this request came from another site (Origin / Sec-Fetch-Site); use the console's own pages\n",
            status: .forbidden
        )
    }

    /// The key's policy, to honour in what the console sends on its behalf.
    func policy(_ session: ConsoleSessions.Session) async -> String? { session.policy }

    /// Cookies get `Secure` when the console is reached over TLS (directly or, per `X-Forwarded-Proto`, through a
    /// proxy), or always with `console.secureCookies: true`.
    func secure(_ request: Request) -> Bool {
        secureCookies || request.uri.scheme == .https || request.head.scheme == "https"
            || request.headers[HTTPField.Name("X-Forwarded-Proto")!]?.lowercased() == "https"
    }

    // MARK: Sign-in

    static let loginCookie = "petrel_login"

    func loginPage(_ request: Request, error: String?, status: HTTPResponse.Status? = nil) -> Response {
        // The sign-in form has its own CSRF token (double submit: cookie and field must match).
        let token = ConsoleSessions.random()
        let body: HTML = """
            <div class="login">\(error.map { "<p class=\"error\">\($0)</p>" as HTML } ?? "")
            <form method="post" action="/console/login">
            <input type="hidden" name="csrf" value="\(token)">
            <label>Access key id <input name="key_id" id="key_id" autocomplete="username" required></label>
            <label>Access key secret \
            <input name="key_secret" id="key_secret" type="password" autocomplete="current-password" required></label>
            <button type="submit" id="sign-in">Sign in</button>
            </form>
            <p class="muted">Create a key with <code>petrel keys create --name NAME</code>.</p></div>
            """
        let page = HTML.page(title: "Sign in", active: "", session: nil, body: body)
        var r = Self.html(page, status: status ?? (error == nil ? .ok : .unauthorized))
        let cookie = "\(Self.loginCookie)=\(token); Path=/console/login; HttpOnly; SameSite=Strict"
        r.headers.append(HTTPField(name: .setCookie, value: cookie + (secure(request) ? "; Secure" : "")))
        return r
    }

    func login(_ request: Request, address: String) async throws -> Response {
        guard KeyAuth.sameOrigin(request) else { return Self.crossSite() }
        let form: Form
        switch await Form.read(request, limit: Self.loginBodyBytes) {
        case .form(let f): form = f
        case .malformed(let why):
            return loginPage(request, error: "The sign-in form could not be read: \(why).", status: .badRequest)
        default:
            let why = "The sign-in form is at most \(Self.loginBodyBytes) bytes."
            return loginPage(request, error: why, status: .contentTooLarge)
        }
        guard let cookie = KeyAuth.cookie(Self.loginCookie, request), ConsoleSessions.same(cookie, form["csrf"] ?? "")
        else {
            return loginPage(request, error: "The sign-in form expired; please try again.")
        }
        switch await auth.verify(keyId: form["key_id"] ?? "", secret: form["key_secret"] ?? "", address: address) {
        case .wait(let seconds):
            var r = loginPage(request, error: Self.tooMany(seconds), status: .tooManyRequests)
            r.headers[.retryAfter] = "\(seconds)"
            return r
        case .wrong:
            return loginPage(request, error: "Unknown or disabled access key, or wrong secret.")
        case .key(let key):
            let s = sessions.create(keyId: key.id, account: key.account, nowMs: clock())
            return Self.redirect("/console", cookie: sessionCookie(s, request))
        }
    }

    static func tooMany(_ seconds: Int64) -> String {
        "Too many failed sign-ins for this key or from this address: try again in \(seconds) s."
    }

    /// For scripts (`petrel campaign send`): the key in the form, a session cookie and its CSRF token back.
    func apiSession(_ request: Request, address: String) async throws -> Response {
        guard KeyAuth.sameOrigin(request) else { return Self.crossSite() }
        let form: Form
        switch await Form.read(request, limit: Self.loginBodyBytes) {
        case .form(let f): form = f
        case .malformed(let why):
            return Self.jsonError("InvalidParameter", "The form could not be read: \(why).", status: .badRequest)
        default:
            let why = "The form is at most \(Self.loginBodyBytes) bytes."
            return Self.jsonError("InvalidParameter", why, status: .contentTooLarge)
        }
        switch await auth.verify(keyId: form["key_id"] ?? "", secret: form["key_secret"] ?? "", address: address) {
        case .wait(let seconds):
            var r = Self.jsonError("Throttling.SignIn", Self.tooMany(seconds), status: .tooManyRequests)
            r.headers[.retryAfter] = "\(seconds)"
            return r
        case .wrong:
            let why = "Unknown or disabled access key, or wrong secret."
            return Self.jsonError("InvalidAccessKeyId", why, status: .unauthorized)
        case .key(let key):
            let s = sessions.create(keyId: key.id, account: key.account, nowMs: clock())
            var r = Self.json(Self.jsonObject([("Csrf", s.csrf), ("Account", s.account)]))
            r.headers.append(HTTPField(name: .setCookie, value: sessionCookie(s, request)))
            return r
        }
    }

    func sessionCookie(_ s: ConsoleSessions.Session, _ request: Request) -> String {
        let cookie = "\(ConsoleSessions.cookie)=\(s.token); Path=/console; HttpOnly; SameSite=Strict"
        return cookie + (secure(request) ? "; Secure" : "")
    }

    // MARK: Responses

    static let securityHeaders: HTTPFields = [
        .contentSecurityPolicy: "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
        HTTPField.Name("X-Content-Type-Options")!: "nosniff",
        HTTPField.Name("Referrer-Policy")!: "same-origin",
        .cacheControl: "no-store",
    ]

    static func html(_ page: HTML, status: HTTPResponse.Status = .ok) -> Response {
        var headers = securityHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: page.text)))
    }

    static func text(
        _ text: String,
        status: HTTPResponse.Status = .ok,
        type: String = "text/plain; charset=utf-8"
    ) -> Response {
        var headers = securityHeaders
        headers[.contentType] = type
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func json(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Self.text(text, status: status, type: "application/json")
    }

    static func jsonObject(_ fields: [(String, String)]) -> String {
        let values = fields.map { ($0.0, ResponseValue.string($0.1)) }
        return String(decoding: ResponseEncoder.encode(values, root: "", format: .json), as: UTF8.self)
    }

    static func jsonError(_ code: String, _ message: String, status: HTTPResponse.Status) -> Response {
        json(jsonObject([("Code", code), ("Message", message)]), status: status)
    }

    static func asset(_ text: String, type: String) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: type, .cacheControl: "max-age=300"],
            body: .init(byteBuffer: ByteBuffer(string: text))
        )
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
}
