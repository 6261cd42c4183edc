import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import PetrelCore
import PetrelStore
import Testing

@testable import PetrelServer

/// The console's routes through Hummingbird's router: sign-in, sessions and cookies, CSRF and origin checks,
/// policies, and pages that show hostile stored values as text.
@Suite struct ConsoleRouteTests {
    typealias H = ConsoleHarness
    static let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]

    @Test func everyPageNeedsASession() async throws {
        try await H.run { h in
            try await h.test { client in
                let page = try await client.execute(uri: "/console/messages", method: .get)
                #expect(page.status == .seeOther && page.headers[.location] == "/console/login")
                for uri in ["/console/fragment/overview", "/console/api/campaigns/1"] {
                    #expect(try await client.execute(uri: uri, method: .get).status == .unauthorized)
                }
                let forged = try await H.get(client, "/console", cookie: "petrel_console=made-up")
                #expect(forged.status == .seeOther)
                let post = try await H.post(client, "/console/keys/create", cookie: "", csrf: "x", [("name", "k")])
                #expect(post.status == .unauthorized)
                #expect(try await h.store.accessKeys().count == 1)
            }
        }
    }

    @Test func signInSetsAStrictSessionCookie() async throws {
        try await H.run { h in
            try await h.test { client in
                let login = try await client.execute(uri: "/console/login", method: .get)
                #expect(login.status == .ok && login.headers[.contentType] == "text/html; charset=utf-8")
                #expect(login.headers[.contentSecurityPolicy]?.contains("frame-ancestors 'none'") == true)
                let set = try #require(login.headers[.setCookie])
                #expect(set.hasPrefix("petrel_login=") && set.contains("HttpOnly") && !set.contains("Secure"))
                let token = String(set.dropFirst("petrel_login=".count).prefix { $0 != ";" })
                #expect(login.text.contains("name=\"csrf\" value=\"\(token)\""))

                func signIn(cookie: String, csrf: String, secret: String = H.secret) async throws -> TestResponse {
                    var headers = Self.form
                    headers[.cookie] = cookie
                    let body = "csrf=\(csrf)&key_id=\(H.keyId)&key_secret=\(secret)"
                    return try await client.execute(
                        uri: "/console/login",
                        method: .post,
                        headers: headers,
                        body: ByteBuffer(string: body)
                    )
                }
                // The form's token must match the cookie's (double submit).
                let expired = try await signIn(cookie: "", csrf: token)
                #expect(expired.status == .unauthorized && expired.text.contains("The sign-in form expired"))
                let wrong = try await signIn(cookie: "petrel_login=\(token)", csrf: token, secret: "nope")
                #expect(wrong.status == .unauthorized && wrong.text.contains("Unknown or disabled access key"))
                let ok = try await signIn(cookie: "petrel_login=\(token)", csrf: token)
                #expect(ok.status == .seeOther && ok.headers[.location] == "/console")
                let session = try #require(ok.headers[.setCookie])
                #expect(session.hasPrefix("petrel_console=") && session.contains("Path=/console"))
                #expect(session.contains("HttpOnly") && session.contains("SameSite=Strict"))
                let cookie = String(session.prefix { $0 != ";" })
                let home = try await H.get(client, "/console", cookie: cookie)
                #expect(home.status == .ok && home.text.contains("<span class=\"account\">acme</span>"))
            }
        }
    }

    @Test func cookiesAreSecureBehindATLSProxy() async throws {
        try await H.run { h in
            try await h.test { client in
                let login = try await client.execute(
                    uri: "/console/login",
                    method: .get,
                    headers: [HTTPField.Name("X-Forwarded-Proto")!: "https"]
                )
                #expect(login.headers[.setCookie]?.hasSuffix("; Secure") == true)
            }
        }
    }

    @Test func formsNeedTheSessionsTokenAndThisSite() async throws {
        try await H.run { h in
            try await h.test { client in
                let (cookie, csrf) = try await H.signIn(client)
                let create = "/console/keys/create"
                let missing = try await H.post(client, create, cookie: cookie, csrf: nil, [("name", "a")])
                #expect(missing.status == .forbidden && missing.text.contains("missing or wrong CSRF token"))
                let wrong = try await H.post(client, create, cookie: cookie, csrf: "x" + csrf, [("name", "b")])
                #expect(wrong.status == .forbidden)
                let crossSite = try await H.post(
                    client,
                    "/console/keys/create",
                    cookie: cookie,
                    csrf: csrf,
                    [("name", "c")],
                    headers: [HTTPField.Name("Sec-Fetch-Site")!: "cross-site"]
                )
                #expect(crossSite.status == .forbidden && crossSite.text.contains("came from another site"))
                let otherOrigin = try await H.post(
                    client,
                    "/console/keys/create",
                    cookie: cookie,
                    csrf: csrf,
                    [("name", "d")],
                    headers: [HTTPField.Name("Origin")!: "https://evil.example"]
                )
                #expect(otherOrigin.status == .forbidden)
                #expect(try await h.store.accessKeys().count == 1)

                // The token in a header does as well as in the form; the new key's secret is shown once.
                let made = try await H.post(
                    client,
                    "/console/keys/create",
                    cookie: cookie,
                    csrf: nil,
                    [("name", "e")],
                    headers: [HTTPField.Name("X-CSRF-Token")!: csrf, HTTPField.Name("Sec-Fetch-Site")!: "same-origin"]
                )
                #expect(made.status == .ok && made.text.contains("<pre id=\"new-key\">{\"AccessKeyId\":\"LTAI"))
                #expect(try await h.store.accessKeys().map(\.name).sorted() == ["admin", "e"])

                // Signing out ends the session.
                #expect(try await H.post(client, "/console/logout", cookie: cookie, csrf: csrf).status == .seeOther)
                #expect(try await H.get(client, "/console", cookie: cookie).status == .seeOther)
            }
        }
    }

    @Test func aKeyWithoutThePolicyActionIsRefused() async throws {
        try await H.run { h in
            try await h.store.putAccessKey(
                AccessKeyRecord(
                    id: "LTAIreader00000001",
                    secret: "reader-secret",
                    account: "acme",
                    name: "reader",
                    policy: H.policy("dysms:QueryMessage"),
                    createdAtMs: H.now
                )
            )
            try await h.test { client in
                let (cookie, csrf) = try await H.signIn(client, keyId: "LTAIreader00000001", secret: "reader-secret")
                let keys = try await H.get(client, "/console/keys", cookie: cookie)
                #expect(keys.status == .forbidden && keys.text.contains("its policy does not allow petrel:ManageKeys"))
                let post = try await H.post(client, "/console/keys/create", cookie: cookie, csrf: csrf, [("name", "x")])
                #expect(post.status == .forbidden)
                let home = try await H.get(client, "/console", cookie: cookie)
                #expect(home.status == .ok && home.text.contains("href=\"/console/messages\""))
                #expect(!home.text.contains("href=\"/console/keys\""))
                #expect(try await H.get(client, "/console/messages", cookie: cookie).status == .ok)
            }
        }
    }

    /// Values from the store, the carriers and the query string are text on every page. The inbox's links used to
    /// take the number unescaped (safe only while numbers were digits).
    @Test func hostileValuesAreShownAsText() async throws {
        let evil = #""><script>alert(1)</script>"#
        let channels = [
            ChannelState(
                id: "carrier<1>",
                kind: "smpp",
                target: "h:1 as <x>",
                bound: 0,
                sessions: 1,
                inFlight: 0,
                window: 1,
                tps: 0,
                lastError: evil
            )
        ]
        try await H.run(channels: channels) { h in
            let m = Message(
                id: 1,
                account: "acme",
                to: evil,
                text: "hi \(evil)",
                taskId: evil,
                createdAtMs: H.now - 1000
            )
            try await h.store.commit(WriteBatch(messages: [m]))
            _ = try await h.store.claim(limit: 1, nowMs: H.now, leaseMs: 60_000)
            var results = DispatchResults()
            results.sent = [SentRecord(id: 1, channel: "sandbox", carrierMessageId: "", sentAtMs: H.now)]
            results.inbox = [
                SandboxEntry(
                    messageId: 1,
                    account: "acme",
                    to: evil,
                    from: evil,
                    text: evil,
                    segments: 1,
                    receivedAtMs: H.now,
                    outcome: evil
                )
            ]
            try await h.store.record(results)
            try await h.test { client in
                let (cookie, _) = try await H.signIn(client)
                for uri in [
                    "/console/inbox", "/console/fragment/inbox", "/console/messages", "/console/messages/1",
                    "/console/channels", "/console/messages?task_id=%22%3E%3Cscript%3E",
                    "/console/messages/%3Cscript%3E",
                ] {
                    let page = try await H.get(client, uri, cookie: cookie)
                    #expect(page.status == .ok || page.status == .notFound, "\(uri)")
                    #expect(!page.text.contains("<script>alert"), "\(uri)")
                    #expect(!page.text.contains("<x>") && !page.text.contains("<1>"), "\(uri)")
                }
                let inbox = try await H.get(client, "/console/inbox", cookie: cookie).text
                #expect(inbox.contains("<a href=\"/console/inbox?to=&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;\""))
                let channels = try await H.get(client, "/console/channels", cookie: cookie).text
                #expect(channels.contains("<td>carrier&lt;1&gt;</td>"))
            }
        }
    }
}
