import Foundation
import Hummingbird
import PetrelAPI
import PetrelCore
import PetrelDelivery
import PetrelStore

/// The sandbox inbox: what the built-in sandbox carrier received, as a phone screen per number, and a form to
/// send a message to it through the API's own path.
extension Console {
    func registerInbox(_ router: Router<PetrelRequestContext>) {
        get("/console/inbox", router, needs: ConsoleAction.query) { request, s in
            let to = Self.number(request.uri.queryParameters["to"].map(String.init) ?? "")
            return try await self.inbox(s, to: to, error: nil)
        }
        get("/console/fragment/inbox", router, needs: ConsoleAction.query) { request, s in
            let to = Self.number(request.uri.queryParameters["to"].map(String.init) ?? "")
            return Self.html(try await self.inboxContent(s, to: to))
        }
        post("/console/inbox/send", router, needs: ConsoleAction.send) { _, s, form in
            let to = Self.number(form["to"] ?? "", keepInvalid: true)
            var params: [(String, String)] = [
                ("To", to), ("Message", form["text"] ?? ""), ("ChannelId", SandboxChannel.channelId),
            ]
            if let from = form["from"], !from.isEmpty { params.append(("From", from)) }
            if let type = form["type"], !type.isEmpty { params.append(("Type", type)) }
            do {
                let result = try await self.gateway.prepare(
                    action: SendMessageToGlobe.name,
                    account: s.account,
                    policy: await self.policy(s),
                    parameters: params,
                    nowMs: self.clock()
                )
                // Committed only when the action accepted it; a per-number limit may still refuse it then.
                var fields = result.fields
                if Self.field("ResponseCode", fields) == "OK" { fields = try await self.gateway.accept(result) }
                let code = Self.field("ResponseCode", fields)
                guard code == "OK" else {
                    let why = Self.sentence(Self.field("ResponseDescription", fields), code: code)
                    return try await self.inbox(s, to: Self.number(to), error: why, draft: form)
                }
                return Self.redirect("/console/inbox?to=\(Self.field("To", fields))")
            } catch let e as APIError {
                let why = Self.sentence(e.message, code: e.code)
                return try await self.inbox(s, to: Self.number(to), error: why, draft: form)
            }
        }
        // The phone's side: its reply goes the way of POST /sandbox/inbound (deliver_sm parts, the inbound store,
        // opt-out keywords, the SmsUp push), as the account's.
        post("/console/inbox/reply", router, needs: ConsoleAction.query) { _, s, form in
            let phone = Self.number(form["from"] ?? "")
            guard let inbound = self.inbound else {
                return try await self.inbox(s, to: phone, error: "This node takes no inbound messages.", draft: form)
            }
            let delivered = await SandboxInbound.deliver(
                from: phone,
                to: form["to"] ?? "",
                text: form["text"] ?? "",
                account: s.account,
                inbound: inbound
            )
            if case .failure(let f) = delivered {
                return try await self.inbox(s, to: phone, error: Self.sentence(f.message, code: f.code), draft: form)
            }
            return Self.redirect("/console/inbox?to=\(phone)")
        }
    }

    /// The inbox page; after a refused send or reply, `draft` (the form as typed) fills the fields again.
    func inbox(_ s: ConsoleSessions.Session, to: String, error: String?, draft: Form? = nil) async throws -> Response {
        var body = error.map { "<p class=\"error\" id=\"send-error\" role=\"alert\">\($0)</p>" as HTML } ?? ""
        let replying = draft?["from"] != nil && draft?["to"] != nil && draft?["type"] == nil
        func typed(_ name: String, _ otherwise: String = "") -> String { draft?[name] ?? otherwise }
        if s.may(ConsoleAction.send) {
            let sendTo = replying ? to : typed("to", to)
            let types = ["NOTIFY", "OTP", "MKT"].map { t -> HTML in
                "<option\(HTML.when(!replying && typed("type") == t, " selected"))>\(t)</option>"
            }
            body += """
                <form method="post" action="/console/inbox/send" class="grid" id="send-form">\(HTML.csrfField(s))
                <label>To <input name="to" id="send-to" value="\(sendTo)" placeholder="+852 9123 4567" required \
                inputmode="tel" autocomplete="off"></label>
                <label>From <input name="from" id="send-from" placeholder="Petrel" \
                value="\(replying ? "" : typed("from"))"></label>
                <label>Type <select name="type">\(types.joined())</select></label>
                <label class="wide">Text <textarea name="text" id="send-text" required>\
                \(replying ? "" : typed("text"))</textarea></label>
                <button type="submit" id="send">Send to the sandbox</button>
                </form>
                """
        }
        body += """
            <div data-refresh="/console/fragment/inbox?to=\(to)" id="inbox">\(try await inboxContent(s, to: to))</div>
            """
        let selected = try await selectedNumber(s, to: to)
        if inbound != nil, !selected.isEmpty {
            let ours = try await store.sandboxMessages(account: s.account, to: selected, limit: 1).first?.from ?? ""
            body += """
                <form method="post" action="/console/inbox/reply" class="grid" id="reply-form">\(HTML.csrfField(s))
                <input type="hidden" name="from" value="\(selected)">
                <label>Reply from +\(selected) to <input name="to" id="reply-to" value="\(ours.isEmpty ? "10000" : ours)" \
                required maxlength="21"></label>
                <label class="wide">Reply <textarea name="text" id="reply-text" required>\
                \(replying ? typed("text") : "")</textarea></label>
                <button type="submit" id="reply">Reply as the phone</button>
                </form>
                """
        }
        return Self.html(HTML.page(title: "Sandbox inbox", active: "/console/inbox", session: s, body: body))
    }

    func inboxContent(_ s: ConsoleSessions.Session, to: String) async throws -> HTML {
        let recent = try await store.sandboxMessages(account: s.account, to: nil, limit: 5000)
        var numbers: [String] = []
        var counts: [String: Int] = [:]
        for e in recent {
            if counts[e.to] == nil { numbers.append(e.to) }
            counts[e.to, default: 0] += 1
        }
        let selected = to.isEmpty ? numbers.first ?? "" : to
        let list = numbers.map { n -> HTML in
            """
            <a href="/console/inbox?to=\(n)"\(HTML.when(n == selected, " class=\"active\""))>+\(n) \
            <span class="muted">(\(counts[n] ?? 0))</span></a>
            """
        }
        let thread =
            selected.isEmpty ? [] : try await store.sandboxMessages(account: s.account, to: selected, limit: 200)
        let replies =
            selected.isEmpty ? [] : try await store.inboundMessages(account: s.account, from: selected, limit: 200)
        var timeline: [(at: Int64, html: HTML)] = thread.map { e in
            let meta: HTML = """
                \(e.from.isEmpty ? "(default sender)" : e.from) · \(HTML.time(e.receivedAtMs)) · \
                \(e.segments) part(s) · \(e.outcome) · <a href="/console/messages/\(e.messageId)">\(e.messageId)</a>
                """
            return (
                e.receivedAtMs,
                """
                <div class="bubble" data-message-id="\(e.messageId)">\(e.text)<span class="meta">\(meta)</span></div>
                """
            )
        }
        timeline += replies.map { m in
            (
                m.receivedAtMs,
                """
                <div class="bubble reply" data-inbound-id="\(m.id)">\(m.text)<span class="meta">reply to \(m.to) · \
                \(HTML.time(m.receivedAtMs))</span></div>
                """
            )
        }
        let bubbles = timeline.sorted { $0.at < $1.at }.map(\.html)
        let empty: HTML = """
            <div class="empty"><p>No message has reached the sandbox yet: send one with the form, or with the SDK \
            (the <a href="/console">Overview</a> shows how).</p>\(Teach.sandboxNumbers)</div>
            """
        return """
            <div class="inbox"><div class="numbers">\(list.isEmpty ? empty : list.joined())</div>
            <div class="phone"><div class="to">\(selected.isEmpty ? "" : "+" + selected)</div>\
            \(bubbles.joined())</div></div>
            """
    }

    /// The number whose conversation shows: `to`, else the last one the sandbox received a message for.
    func selectedNumber(_ s: ConsoleSessions.Session, to: String) async throws -> String {
        guard to.isEmpty else { return to }
        return try await store.sandboxMessages(account: s.account, to: nil, limit: 1).first?.to ?? ""
    }

    /// `+852 9123-4567`, `(852) 91234567` or `0085291234567` as `85291234567`: spaces, dashes, dots and brackets
    /// are how people write numbers. Anything else gives "" (or, with `keepInvalid`, the text as typed, for the API
    /// to refuse with its own code).
    static func number(_ raw: String, keepInvalid: Bool = false) -> String {
        var n = String(raw.unicodeScalars.filter { !" -.()\u{A0}".unicodeScalars.contains($0) })
        if n.hasPrefix("+") { n.removeFirst() }
        if n.hasPrefix("00") { n.removeFirst(2) }
        guard !n.isEmpty, n.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            return keepInvalid ? raw : ""
        }
        return n
    }

    /// An answer's description and code as a sentence: "The number is not valid (isv.MOBILE_NUMBER_ILLEGAL)."
    static func sentence(_ description: String, code: String) -> String {
        var d = description.trimmingCharacters(in: .whitespaces)
        if let first = d.first, first.isLowercase { d = first.uppercased() + d.dropFirst() }
        while d.last == "." { d.removeLast() }
        return d.isEmpty ? "The message was refused (\(code))." : "\(d) (\(code))."
    }

    static func field(_ name: String, _ fields: [(String, ResponseValue)]) -> String {
        if case .string(let v)? = fields.first(where: { $0.0 == name })?.1 { return v }
        return ""
    }
}
