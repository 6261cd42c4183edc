import Foundation
import Hummingbird
import PetrelAPI
import PetrelCore
import PetrelStore

/// Access keys and templates of the signed-in account. A key made here gets the policy of the key that made it,
/// so a restricted key can never mint a stronger one; a secret is shown once, on the page that created it.
extension Console {
    func registerKeys(_ router: Router<PetrelRequestContext>) {
        get("/console/keys", router, needs: nil) { request, s in
            guard s.may(ConsoleAction.keys) || s.may(ConsoleAction.templates) else {
                return Self.forbidden(request, s, ConsoleAction.keys)
            }
            return try await self.keys(s, notice: nil, error: nil)
        }
        post("/console/keys/create", router, needs: ConsoleAction.keys) { _, s, form in
            let name = (form["name"] ?? "").trimmingCharacters(in: CharacterSet(charactersIn: " "))
            guard !name.isEmpty, name.count <= 64 else {
                return try await self.keys(s, notice: nil, error: "A key needs a name of 1 to 64 characters.")
            }
            let creator = try await self.store.accessKey(id: s.keyId)
            let key = AccessKeys.make(name: name, account: s.account, policy: creator?.policy, nowMs: self.clock())
            try await self.store.putAccessKey(key)
            let shown: HTML = """
                Key created. Copy the secret now: it is not shown again.
                <pre id="new-key">{"AccessKeyId":"\(key.id)","AccessKeySecret":"\(key.secret)"}</pre>
                """
            return try await self.keys(s, notice: shown, error: nil)
        }
        for action in ["disable", "enable", "delete"] {
            post(RouterPath("/console/keys/{id}/\(action)"), router, needs: ConsoleAction.keys) { request, s, _ in
                let id = Self.pathComponent(request, after: "keys")
                guard let key = try await self.store.accessKey(id: id), key.account == s.account else {
                    return try await self.keys(s, notice: nil, error: "No key \(id) in this account.")
                }
                guard key.id != s.keyId || action == "enable" else {
                    let why = "You are signed in with this key; use another key to \(action) it."
                    return try await self.keys(s, notice: nil, error: why)
                }
                // A key never acts on a key with rights it lacks (a restricted key could otherwise shut out its
                // admins).
                guard s.covers(policy: key.policy) else {
                    let why = "Key \(id) has rights the key you signed in with lacks: it cannot \(action) it."
                    var r = try await self.keys(s, notice: nil, error: why)
                    r.status = .forbidden
                    return r
                }
                switch action {
                case "delete": _ = try await self.store.deleteAccessKey(id: id)
                default: _ = try await self.store.setAccessKey(id: id, enabled: action == "enable")
                }
                return Self.redirect("/console/keys")
            }
        }
        post("/console/templates/add", router, needs: ConsoleAction.templates) { _, s, form in
            let code = (form["code"] ?? "").trimmingCharacters(in: CharacterSet(charactersIn: " "))
            let text = form["text"] ?? ""
            let allowed = { (c: Character) in c.isASCII && (c.isLetter || c.isNumber || c == "_" || c == "-") }
            guard !code.isEmpty, code.count <= 64, code.allSatisfy(allowed) else {
                return try await self.keys(s, notice: nil, error: "A TemplateCode is 1 to 64 letters, digits, _ or -.")
            }
            // Code points, as AddSmsTemplate counts (one Character may carry any number of combining marks);
            // a NUL cannot be stored by PostgreSQL (the request failed with a 500).
            guard !text.isEmpty, text.unicodeScalars.count <= self.gateway.maxTextLength, !text.utf8.contains(0) else {
                let why = "A template text is 1 to \(self.gateway.maxTextLength) characters, without NUL."
                return try await self.keys(s, notice: nil, error: why)
            }
            // Under api.approval: manual an account's template waits for the operator (petrel:Operate), as one
            // made through AddSmsTemplate does; else a console key would send what the operator never saw.
            let operates = s.may(ConsoleAction.operate)
            let settings = self.gateway.signs
            let template = TemplateRecord(
                account: s.account,
                code: code,
                text: text,
                createdAtMs: self.clock(),
                audit: settings.manualApproval && !operates ? .pending : .approved
            )
            // An account's keys are held to api.maxTemplatesPerAccount as AddSmsTemplate is (the operator's are
            // not); a code the account has is replaced.
            if operates {
                try await self.store.putTemplate(template)
            } else {
                switch try await self.store.addTemplate(template, max: settings.maxTemplatesPerAccount) {
                case .added: break
                case .exists: try await self.store.putTemplate(template)
                case .full:
                    let why = "The account has as many templates as it may (api.maxTemplatesPerAccount)."
                    return try await self.keys(s, notice: nil, error: why)
                }
            }
            return Self.redirect("/console/keys")
        }
        post("/console/templates/{code}/delete", router, needs: ConsoleAction.templates) { request, s, _ in
            let code = Self.pathComponent(request, after: "templates")
            _ = try await self.store.deleteTemplate(account: s.account, code: code)
            return Self.redirect("/console/keys")
        }
    }

    /// `notice` is markup: the page that created a key shows its secret in a `<pre>`.
    func keys(_ s: ConsoleSessions.Session, notice: HTML?, error: String?) async throws -> Response {
        let keys = try await store.accessKeys().filter { $0.account == s.account }
        let templates = try await store.templates(account: s.account)
        var body = notice.map { "<div class=\"notice\">\($0)</div>" as HTML } ?? ""
        body += error.map { "<p class=\"error\" id=\"keys-error\">\($0)</p>" as HTML } ?? ""
        func button(_ path: String, _ label: String, _ confirm: String?) -> HTML {
            let question = confirm.map { " data-confirm=\"\($0)\"" as HTML } ?? ""
            return """
                <form method="post" action="\(path)" class="inline"\(question)>\(HTML.csrfField(s))\
                <button type="submit" class="secondary">\(label)</button></form>
                """
        }
        if s.may(ConsoleAction.keys) { body += keyList(s, keys, button) }
        if s.may(ConsoleAction.templates) { body += templateList(s, templates, button) }
        return Self.html(HTML.page(title: "Keys & templates", active: "/console/keys", session: s, body: body))
    }

    typealias Button = (_ path: String, _ label: String, _ confirm: String?) -> HTML

    func keyList(_ s: ConsoleSessions.Session, _ keys: [AccessKeyRecord], _ button: Button) -> HTML {
        "<h2>Access keys</h2>"
            + HTML.table(
                ["AccessKeyId", "Name", "State", "Policy", "Created", ""],
                keys.map { k in
                    let path = "/console/keys/\(k.id)"
                    let actions: HTML =
                        k.id == s.keyId
                        ? "<span class=\"muted\">signed in with this key</span>"
                        : !s.covers(policy: k.policy)
                            ? "<span class=\"muted\">has rights this key lacks</span>"
                            : (k.enabled
                                ? button(path + "/disable", "Disable", nil) : button(path + "/enable", "Enable", nil))
                                + " " + button(path + "/delete", "Delete", "Delete key \(k.id)?")
                    return [
                        "\(k.id)", "\(k.name)", "\(k.enabled ? "enabled" : "disabled")",
                        "\(k.policy == nil ? "full rights" : "policy")", "\(HTML.time(k.createdAtMs))", actions,
                    ]
                }
            )
                + """
                <form method="post" action="/console/keys/create" class="grid" id="key-form">\(HTML.csrfField(s))
                <label>New key's name <input name="name" id="key-name" required maxlength="64"></label>
                <button type="submit" id="key-create">Create key</button></form>
                <p class="muted">A new key gets the same rights as the key you signed in with. Its secret is shown once.</p>
                """
    }

    func templateList(_ s: ConsoleSessions.Session, _ templates: [TemplateRecord], _ button: Button) -> HTML {
        "<h2>Templates</h2>"
            + HTML.table(
                ["TemplateCode", "Text", "Audit", "Created", ""],
                templates.map {
                    [
                        "\($0.code)", "\($0.text)", "\($0.audit.alibabaName)", "\(HTML.time($0.createdAtMs))",
                        button("/console/templates/\($0.code)/delete", "Delete", "Delete template \($0.code)?"),
                    ]
                },
                empty: "No templates."
            )
                + """
                <form method="post" action="/console/templates/add" class="grid" id="template-form">\(HTML.csrfField(s))
                <label>TemplateCode <input name="code" id="template-code" required maxlength="64"></label>
                <label class="wide">Text, with ${variable} placeholders \
                <textarea name="text" id="template-text" required></textarea></label>
                <button type="submit" id="template-add">Add or replace template</button></form>
                """
    }
}
