import Foundation
import HummingbirdTesting
import PetrelAPI
import PetrelCore
import PetrelStore
import Testing

@testable import PetrelServer

/// The Approvals page decides on what it showed: a sign or template the account changed after the page was drawn
/// is not approved unseen.
@Suite struct ConsoleApprovalsTests {
    typealias H = ConsoleHarness

    static let pending = TemplateRecord(
        account: "acme",
        code: "SMS_100000001",
        text: "Your code is ${code}",
        createdAtMs: H.now - 60_000,
        name: "otp",
        type: 0,
        remark: "",
        audit: .pending,
        auditedAtMs: nil
    )

    /// The `shown` digest of the form deciding on `name`.
    static func shown(_ page: String, _ name: String) throws -> String {
        let marker = "name=\"name\" value=\"\(name)\"><input type=\"hidden\" name=\"shown\" value=\""
        let start = try #require(page.range(of: marker)).upperBound
        return String(page[start...].prefix(64))
    }

    @Test func aTemplateModifiedAfterThePageWasShownIsNotApproved() async throws {
        try await H.run { h in
            try await h.store.putTemplate(Self.pending)
            try await h.test { client in
                let (cookie, csrf) = try await H.signIn(client)
                let page = try await H.get(client, "/console/approvals", cookie: cookie).text
                let old = try Self.shown(page, Self.pending.code)

                var swapped = Self.pending
                swapped.text = "Pay at evil.example ${code}"
                #expect(try await h.store.updateTemplate(swapped))
                let fields = [("kind", "template"), ("account", "acme"), ("name", Self.pending.code)]
                let stale = try await H.post(
                    client,
                    "/console/approvals/review",
                    cookie: cookie,
                    csrf: csrf,
                    fields + [("decision", "approve"), ("shown", old)]
                )
                #expect(stale.text.contains("SMS_100000001 of acme changed since the page was shown"))
                #expect(try await h.store.template(account: "acme", code: Self.pending.code)?.audit == .pending)

                // Without the digest nothing is decided either.
                _ = try await H.post(
                    client,
                    "/console/approvals/review",
                    cookie: cookie,
                    csrf: csrf,
                    fields + [("decision", "approve")]
                )
                #expect(try await h.store.template(account: "acme", code: Self.pending.code)?.audit == .pending)

                // What the page shows now is what gets approved.
                let fresh = try Self.shown(stale.text, Self.pending.code)
                #expect(fresh != old)
                let approved = try await H.post(
                    client,
                    "/console/approvals/review",
                    cookie: cookie,
                    csrf: csrf,
                    fields + [("decision", "approve"), ("shown", fresh)]
                )
                #expect(approved.text.contains("SMS_100000001 of acme: AUDIT_STATE_PASS"))
                let now = try await h.store.template(account: "acme", code: Self.pending.code)
                #expect(now?.audit == .approved && now?.text == swapped.text)
            }
        }
    }

    @Test func aSignWhoseRemarkChangedIsNotRejectedOrApprovedUnseen() async throws {
        try await H.run { h in
            let sign = SignRecord(
                account: "acme",
                name: "Acme",
                remark: "our shop",
                audit: .pending,
                createdAtMs: H.now
            )
            #expect(try await h.store.addSign(sign, max: 10) == .added)
            try await h.test { client in
                let (cookie, csrf) = try await H.signIn(client)
                let page = try await H.get(client, "/console/approvals", cookie: cookie).text
                let old = try Self.shown(page, "Acme")
                var changed = sign
                changed.remark = "a different business"
                #expect(try await h.store.updateSign(changed))
                let fields = [("kind", "sign"), ("account", "acme"), ("name", "Acme"), ("shown", old)]
                let stale = try await H.post(
                    client,
                    "/console/approvals/review",
                    cookie: cookie,
                    csrf: csrf,
                    fields + [("decision", "approve")]
                )
                #expect(stale.text.contains("Acme of acme changed since the page was shown"))
                #expect(try await h.store.sign(account: "acme", name: "Acme")?.audit == .pending)
            }
        }
    }

    /// Under `api.approval: manual` a template an account's key adds in the console waits for the operator, as one
    /// made through AddSmsTemplate; the operator's (petrel:Operate) own are approved.
    @Test func aConsoleTemplateWaitsUnderManualApproval() async throws {
        try await H.run(signs: SignSettings(manualApproval: true)) { h in
            try await h.store.putAccessKey(
                AccessKeyRecord(
                    id: "LTAIshop0000000001",
                    secret: "shop-secret-000000001",
                    account: "acme",
                    name: "shop",
                    policy: H.policy("dysms:*", "petrel:ManageTemplates"),
                    createdAtMs: H.now
                )
            )
            try await h.test { client in
                let (cookie, csrf) = try await H.signIn(
                    client,
                    keyId: "LTAIshop0000000001",
                    secret: "shop-secret-000000001"
                )
                let text = [("code", "SMS_SHOP"), ("text", "Pay at evil.example")]
                _ = try await H.post(client, "/console/templates/add", cookie: cookie, csrf: csrf, text)
                #expect(try await h.store.template(account: "acme", code: "SMS_SHOP")?.audit == .pending)

                // Nor does adding it again over an approved one approve the new text.
                var approved = try #require(try await h.store.template(account: "acme", code: "SMS_SHOP"))
                approved.audit = .approved
                try await h.store.putTemplate(approved)
                let again = [("code", "SMS_SHOP"), ("text", "Another text")]
                _ = try await H.post(client, "/console/templates/add", cookie: cookie, csrf: csrf, again)
                let now = try await h.store.template(account: "acme", code: "SMS_SHOP")
                #expect(now?.audit == .pending && now?.text == "Another text")

                let (opCookie, opCsrf) = try await H.signIn(client)
                let own = [("code", "SMS_OWN"), ("text", "Hello")]
                _ = try await H.post(client, "/console/templates/add", cookie: opCookie, csrf: opCsrf, own)
                #expect(try await h.store.template(account: "acme", code: "SMS_OWN")?.audit == .approved)
            }
        }
    }

    /// An account's keys add templates in the console within api.maxTemplatesPerAccount (replacing one they have
    /// still works), and a text is counted in code points and holds no NUL (PostgreSQL cannot store it).
    @Test func consoleTemplatesOfAnAccountAreBounded() async throws {
        try await H.run(signs: SignSettings(maxTemplatesPerAccount: 1)) { h in
            try await h.store.putAccessKey(
                AccessKeyRecord(
                    id: "LTAIshop0000000001",
                    secret: "shop-secret-000000001",
                    account: "acme",
                    name: "shop",
                    policy: H.policy("petrel:ManageTemplates"),
                    createdAtMs: H.now
                )
            )
            try await h.test { client in
                let (cookie, csrf) = try await H.signIn(
                    client,
                    keyId: "LTAIshop0000000001",
                    secret: "shop-secret-000000001"
                )
                func add(_ code: String, _ text: String) async throws -> String {
                    let r = try await H.post(
                        client,
                        "/console/templates/add",
                        cookie: cookie,
                        csrf: csrf,
                        [("code", code), ("text", text)]
                    )
                    return r.text
                }
                _ = try await add("SMS_A", "First")
                #expect(try await add("SMS_B", "Second").contains("as many templates as it may"))
                #expect(try await h.store.template(account: "acme", code: "SMS_B") == nil)
                _ = try await add("SMS_A", "First, again")
                #expect(try await h.store.template(account: "acme", code: "SMS_A")?.text == "First, again")

                #expect(try await add("SMS_A", "Nul \u{0} here").contains("without NUL"))
                let marks = "a" + String(repeating: "\u{301}", count: 2000)
                #expect(try await add("SMS_A", marks).contains("A template text is 1 to 1600 characters"))
                #expect(try await h.store.template(account: "acme", code: "SMS_A")?.text == "First, again")
            }
        }
    }
}
