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

    func approvals(_ s: ConsoleSessions.Session, notice: String?) async throws -> Response {
        let waiting = try await store.awaitingReview(limit: Self.approvalsShown)
        func decide(_ kind: String, _ account: String, _ name: String) -> HTML {
            """
            <form method="post" action="/console/approvals/review" class="inline">\(HTML.csrfField(s))\
            <input type="hidden" name="kind" value="\(kind)"><input type="hidden" name="account" value="\(account)">\
            <input type="hidden" name="name" value="\(name)">\
            <button type="submit" name="decision" value="approve">Approve</button> \
            <input name="reason" placeholder="Reason to reject" maxlength="500" aria-label="Reason">\
            <button type="submit" name="decision" value="reject" class="secondary">Reject</button></form>
            """
        }
        var body = notice.map { "<div class=\"notice\" id=\"approvals-notice\">\($0)</div>" as HTML } ?? ""
        body += "<h2>Signs</h2>"
        body += HTML.table(
            ["Account", "SignName", "Remark", "Submitted (UTC)", ""],
            waiting.signs.map {
                [
                    "\($0.account)", "\($0.name)", "\($0.remark)", "\(HTML.time($0.createdAtMs))",
                    decide("sign", $0.account, $0.name),
                ]
            },
            empty: "No sign waits for approval."
        )
        body += "<h2>Templates</h2>"
        body += HTML.table(
            ["Account", "TemplateCode", "Name", "Text", "Submitted (UTC)", ""],
            waiting.templates.map {
                [
                    "\($0.account)", "\($0.code)", "\($0.name)", "\($0.text)", "\(HTML.time($0.createdAtMs))",
                    decide("template", $0.account, $0.code),
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
