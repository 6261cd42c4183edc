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
            let query = Self.searchText(request)
            return try await self.inbox(s, to: to, query: query, error: nil)
        }
        get("/console/fragment/inbox", router, needs: ConsoleAction.query) { request, s in
            let to = Self.number(request.uri.queryParameters["to"].map(String.init) ?? "")
            guard request.uri.queryParameters["part"] == "list" else {
                return Self.html(try await self.thread(s, number: to))
            }
            let query = Self.searchText(request)
            let list = try await self.conversations(s, query: query)
            return Self.html(self.conversationList(list, selected: to, query: query))
        }
        post("/console/inbox/clear", router, needs: ConsoleAction.query) { _, s, form in
            let raw = form["to"] ?? ""
            let to = Self.number(raw)
            // A number that does not read as one clears nothing (never everything).
            guard raw.isEmpty || !to.isEmpty else {
                let why = "“\(raw.prefix(40))” is not a phone number, so nothing was deleted."
                return try await self.inbox(s, to: "", error: why)
            }
            _ = try await self.store.clearSandbox(account: s.account, to: to.isEmpty ? nil : to)
            return Self.redirect("/console/inbox")
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

    /// The inbox page as a mail reader: conversations (newest first, searchable) beside the selected one's phone
    /// screen (below it on a phone), the reply box and the compact send form under it. After a refused send or
    /// reply, `draft` (the form as typed) fills the fields again.
    func inbox(
        _ s: ConsoleSessions.Session,
        to: String,
        query: String = "",
        error: String?,
        draft: Form? = nil
    ) async throws -> Response {
        let replying = draft?["from"] != nil && draft?["to"] != nil && draft?["type"] == nil
        func typed(_ name: String, _ otherwise: String = "") -> String { draft?[name] ?? otherwise }
        let conversations = try await conversations(s, query: query)
        let selected = to.isEmpty ? conversations.first?.number ?? "" : to
        let q = FormEncoding.percentEncode(query)
        var reader: HTML = error.map { "<p class=\"error\" id=\"send-error\" role=\"alert\">\($0)</p>" as HTML } ?? ""
        reader += """
            <div data-refresh="/console/fragment/inbox?to=\(selected)" id="inbox">\
            \(try await thread(s, number: selected))</div>
            """
        if inbound != nil, !selected.isEmpty {
            let ours = try await store.sandboxMessages(account: s.account, to: selected, limit: 1).first?.from ?? ""
            reader += """
                <form method="post" action="/console/inbox/reply" class="compact" id="reply-form">\(HTML.csrfField(s))
                <input type="hidden" name="from" value="\(selected)">
                <label>Reply from +\(selected) to <input name="to" id="reply-to" \
                value="\(ours.isEmpty ? "10000" : ours)" required maxlength="21"></label>
                <label class="wide">Reply <textarea name="text" id="reply-text" rows="2" required>\
                \(replying ? typed("text") : "")</textarea></label>
                <button type="submit" id="reply">Reply as the phone</button>
                </form>
                """
        }
        if s.may(ConsoleAction.send) {
            let sendTo = replying ? selected : typed("to", selected.isEmpty ? "" : "+" + selected)
            let types = ["NOTIFY", "OTP", "MKT"].map { t -> HTML in
                "<option\(HTML.when(!replying && typed("type") == t, " selected"))>\(t)</option>"
            }
            reader += """
                <h2 id="send-title">Send to the sandbox</h2>
                <form method="post" action="/console/inbox/send" class="compact" id="send-form" \
                aria-labelledby="send-title">\(HTML.csrfField(s))
                <label>To <input name="to" id="send-to" value="\(sendTo)" placeholder="+852 9123 4567" required \
                inputmode="tel" autocomplete="off"></label>
                <label>From <input name="from" id="send-from" placeholder="Petrel" \
                value="\(replying ? "" : typed("from"))"></label>
                <label>Type <select name="type">\(types.joined())</select></label>
                <label class="wide">Text <textarea name="text" id="send-text" rows="2" required \
                data-counter="send-count" aria-describedby="send-count">\
                \(replying ? "" : typed("text"))</textarea></label>
                <output id="send-count" class="muted" aria-live="polite"></output>
                <button type="submit" id="send">Send</button>
                </form>
                """
        }
        if !selected.isEmpty {
            reader += """
                <form method="post" action="/console/inbox/clear" class="inline" \
                data-confirm="Delete the sandbox's messages to +\(selected)?">\(HTML.csrfField(s))\
                <input type="hidden" name="to" value="\(selected)">\
                <button type="submit" class="secondary" id="clear-number">Clear +\(selected)</button></form>
                """
        }
        let side: HTML = """
            <form method="get" action="/console/inbox" role="search" class="search">\
            <label>Search conversations <input type="search" name="q" id="inbox-search" data-search \
            value="\(query)" placeholder="number or text" aria-keyshortcuts="/"></label></form>
            <div id="conversations" data-refresh="/console/fragment/inbox?part=list&amp;to=\(selected)&amp;q=\(q)">\
            \(conversationList(conversations, selected: selected, query: query))</div>
            \(HTML.when(!conversations.isEmpty, """
                <form method="post" action="/console/inbox/clear" class="inline" \
                data-confirm="Delete every message in this account's sandbox inbox?">\(HTML.csrfField(s))\
                <button type="submit" class="secondary" id="clear-all">Clear all</button></form>
                """))
            """
        let body: HTML = """
            <div class="inbox"><div class="side">\(side)</div>\
            <section class="reader" aria-label="Conversation">\(reader)</section></div>
            """
        return Self.html(HTML.page(title: "Sandbox inbox", active: "/console/inbox", session: s, body: body))
    }

    /// A conversation in the list: the number, its newest message and how many there are.
    struct Conversation {
        var number: String
        var newest: SandboxEntry
        var count: Int
    }

    /// The account's conversations, newest first, from the sandbox's latest `conversationWindow` messages; with
    /// `query`, those whose number holds its digits or whose messages hold its text (any case).
    func conversations(_ s: ConsoleSessions.Session, query: String) async throws -> [Conversation] {
        let recent = try await store.sandboxMessages(account: s.account, to: nil, limit: Self.conversationWindow)
        let needle = query.trimmingCharacters(in: .whitespaces).lowercased()
        let digits = Self.number(needle)
        var order: [String] = []
        var found: [String: Conversation] = [:]
        var matching: Set<String> = []
        for e in recent {
            if found[e.to] == nil {
                order.append(e.to)
                found[e.to] = Conversation(number: e.to, newest: e, count: 0)
            }
            found[e.to]?.count += 1
            if needle.isEmpty || (!digits.isEmpty && e.to.contains(digits)) || e.text.lowercased().contains(needle) {
                matching.insert(e.to)
            }
        }
        return order.filter(matching.contains).compactMap { found[$0] }
    }

    /// How many of the newest sandbox messages the list is drawn from: a bound on each refresh's work.
    static let conversationWindow = 5000

    func conversationList(_ list: [Conversation], selected: String, query: String) -> HTML {
        guard !list.isEmpty else {
            if !query.isEmpty { return "<p class=\"empty\">No conversation matches “\(query)”.</p>" }
            return """
                <div class="empty"><p>No message has reached the sandbox yet: send one with the form, or with the SDK \
                (the <a href="/console">Overview</a> shows how).</p>\(Teach.sandboxNumbers)</div>
                """
        }
        let q = query.isEmpty ? "" : "&q=" + FormEncoding.percentEncode(query)
        let items = list.map { c -> HTML in
            let country: String =
                switch PhoneNumber.parse(c.number) {
                case .success(let p): p.region
                case .failure: ""
                }
            return """
                <li><a href="/console/inbox?to=\(c.number)\(q)"\(HTML.when(c.number == selected, " aria-current=\"true\""))>\
                <span class="who">+\(c.number) <span class="muted">\(country) · \(c.count)</span></span>\
                <span class="when muted">\(HTML.time(c.newest.receivedAtMs))</span>\
                <span class="snippet">\(c.newest.text.prefix(80))</span></a></li>
                """
        }
        return "<ul class=\"numbers\" aria-label=\"Conversations, newest first\">\(items.joined())</ul>"
    }

    /// A number's phone screen: the sandbox's messages and the phone's replies, the newest at the bottom and in
    /// view (the thread scrolls from its end).
    func thread(_ s: ConsoleSessions.Session, number: String) async throws -> HTML {
        guard !number.isEmpty else { return "<div class=\"phone\"><div class=\"to\"></div></div>" }
        let sent = try await store.sandboxMessages(account: s.account, to: number, limit: 200)
        let replies = try await store.inboundMessages(account: s.account, from: number, limit: 200)
        var timeline: [(at: Int64, html: HTML)] = sent.map { e in
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
        // Newest first in the markup; the thread's column-reverse shows it at the bottom, scrolled into view.
        let bubbles = timeline.sorted { $0.at > $1.at }.map(\.html)
        return """
            <div class="phone"><div class="to">+\(number)</div>\
            <div class="thread" tabindex="0" aria-label="Messages to +\(number), newest first">\(bubbles.joined())</div>\
            </div>
            """
    }

    /// The inbox's search (`q`) as a form sends it (`+` is a space), at most 100 characters.
    static func searchText(_ request: Request) -> String {
        let pairs = (try? FormEncoding.decode(request.uri.query ?? "")) ?? []
        let q = pairs.first { $0.0 == "q" }?.1 ?? ""
        return String(q.trimmingCharacters(in: .whitespaces).prefix(100))
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
