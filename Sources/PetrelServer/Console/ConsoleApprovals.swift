import Crypto
import Hummingbird
import PetrelStore

/// The operator's approvals (`api.approval: manual`): every account's signs and templates made through dysmsapi
/// 2017-05-25 that wait for a decision, each approved or rejected with a reason the account reads back
/// (`QuerySmsSign`'s Reason, `GetSmsTemplate`'s AuditInfo.RejectInfo). As `petrel signs|templates approve|reject`.
extension Console {
    /// At most this many of each kind are listed at once (the oldest first).
    static let approvalsShown = 200

    func registerApprovals(_ router: Router<PetrelRequestContext>) {
        get("/console/approvals", router, needs: ConsoleAction.operate) { _, s in
            try await self.approvals(s, notice: nil)
        }
        post("/console/approvals/review", router, needs: ConsoleAction.operate) { _, s, form in
            let account = form["account"] ?? ""
            let name = form["name"] ?? ""
            let approve = form["decision"] == "approve"
            let reason = approve ? "" : String((form["reason"] ?? "").unicodeScalars.prefix(500))
            let audit: AuditState = approve ? .approved : .rejected
            // The decision is on what the page showed: an account that modifies its sign or template after the
            // page was drawn (a harmless text swapped for another) has its new version reviewed anew.
            let current: String?
            switch form["kind"] {
            case "sign": current = try await self.store.sign(account: account, name: name).map(Self.shown)
            case "template": current = try await self.store.template(account: account, code: name).map(Self.shown)
            default: return Self.text("kind must be sign or template\n", status: .badRequest)
            }
            guard let current else { return try await self.approvals(s, notice: "No \(name) in account \(account).") }
            guard current == form["shown"] else {
                let notice = "\(name) of \(account) changed since the page was shown; review it again."
                return try await self.approvals(s, notice: notice)
            }
            let found: Bool
            switch form["kind"] {
            case "sign":
                found = try await self.store.reviewSign(
                    account: account,
                    name: name,
                    audit: audit,
                    reason: reason,
                    atMs: self.clock()
                )
            case "template":
                found = try await self.store.reviewTemplate(
                    account: account,
                    code: name,
                    audit: audit,
                    reason: reason,
                    atMs: self.clock()
                )
            default: return Self.text("kind must be sign or template\n", status: .badRequest)
            }
            let notice = found ? "\(name) of \(account): \(audit.alibabaName)" : "No \(name) in account \(account)."
            return try await self.approvals(s, notice: notice)
        }
    }

    /// A digest of what the page shows of a sign or template (SHA-256: an account cannot make another text with
    /// the same one), so a decision applies only to that version.
    static func shown(_ sign: SignRecord) -> String {
        digest("sign", [String(sign.source), String(sign.type), sign.remark])
    }

    static func shown(_ template: TemplateRecord) -> String {
        digest("template", [String(template.type), template.name, template.text])
    }

    static func digest(_ kind: String, _ fields: [String]) -> String {
        var hash = SHA256()
        for field in [kind] + fields {
            // Each field with its length first, so no two lists of fields give the same bytes.
            hash.update(data: Array("\(field.utf8.count):".utf8))
            hash.update(data: Array(field.utf8))
        }
        return hash.finalize().map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    func approvals(_ s: ConsoleSessions.Session, notice: String?) async throws -> Response {
        let waiting = try await store.awaitingReview(limit: Self.approvalsShown)
        func decide(_ kind: String, _ account: String, _ name: String, _ shown: String) -> HTML {
            """
            <form method="post" action="/console/approvals/review" class="inline">\(HTML.csrfField(s))\
            <input type="hidden" name="kind" value="\(kind)"><input type="hidden" name="account" value="\(account)">\
            <input type="hidden" name="name" value="\(name)"><input type="hidden" name="shown" value="\(shown)">\
            <button type="submit" name="decision" value="approve">Approve</button> \
            <input name="reason" placeholder="Reason to reject" maxlength="500" aria-label="Reason">\
            <button type="submit" name="decision" value="reject" class="secondary">Reject</button></form>
            """
        }
        var body = notice.map { "<div class=\"notice\" id=\"approvals-notice\">\($0)</div>" as HTML } ?? ""
        body += "<h2>Signs</h2>"
        body += HTML.table(
            ["Account", "SignName", "Remark", "Submitted", ""],
            waiting.signs.map {
                [
                    "\($0.account)", "\($0.name)", "\($0.remark)", "\(HTML.time($0.createdAtMs))",
                    decide("sign", $0.account, $0.name, Self.shown($0)),
                ]
            },
            empty: "No sign waits for approval."
        )
        body += "<h2>Templates</h2>"
        body += HTML.table(
            ["Account", "TemplateCode", "Name", "Text", "Submitted", ""],
            waiting.templates.map {
                [
                    "\($0.account)", "\($0.code)", "\($0.name)", "\($0.text)", "\(HTML.time($0.createdAtMs))",
                    decide("template", $0.account, $0.code, Self.shown($0)),
                ]
            },
            empty: "No template waits for approval."
        )
        body += """
            <p class="muted">Signs and templates accounts make through dysmsapi 2017-05-25 wait here under \
            <code>api.approval: manual</code>; SendSms refuses them until they are approved.</p>
            """
        return Self.html(HTML.page(title: "Approvals", active: "/console/approvals", session: s, body: body))
    }
}
