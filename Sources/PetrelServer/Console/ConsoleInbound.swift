import Foundation
import Hummingbird
import PetrelAPI
import PetrelCore
import PetrelStore

/// Customers' replies (issue 24): the account's inbound messages with where each push stands, and its suppression
/// list (phones that replied STOP, or were put there), with forms to add and remove phones.
extension Console {
    func registerInbound(_ router: Router<PetrelRequestContext>) {
        get("/console/inbound", router, needs: ConsoleAction.query) { request, s in
            let from = Self.number(request.uri.queryParameters["from"].map(String.init) ?? "")
            return Self.html(
                HTML.page(
                    title: "Inbound",
                    active: "/console/inbound",
                    session: s,
                    body: try await self.inboundContent(s, from: from)
                )
            )
        }
        get("/console/optout", router, needs: ConsoleAction.optOut) { _, s in
            try await self.optOutPage(s, notice: nil, error: nil)
        }
        post("/console/optout/add", router, needs: ConsoleAction.optOut) { _, s, form in
            let raw = (form["phones"] ?? "").split(whereSeparator: { $0 == "," || $0.isNewline || $0 == " " })
            guard !raw.isEmpty, raw.count <= 1000 else {
                return try await self.optOutPage(s, notice: nil, error: "Give 1 to 1000 phone numbers.")
            }
            var phones: [String] = []
            for r in raw {
                guard case .success(let n) = PhoneNumber.parse(r) else {
                    let why = "\(r) is not a phone number with its country code; nothing was added."
                    return try await self.optOutPage(s, notice: nil, error: why)
                }
                phones.append(n.digits)
            }
            do {
                let added = try await self.store.optOut(
                    account: s.account,
                    phones: phones,
                    source: "console",
                    maxPhones: self.optOutMaxPhones,
                    nowMs: self.clock()
                )
                // This node refuses them at once; the others within a second (OptOutWatch).
                try await self.gateway.optOut.catchUp(from: self.store)
                return try await self.optOutPage(s, notice: "\(added) phone(s) added.", error: nil)
            } catch let full as OptOutListFull {
                return try await self.optOutPage(s, notice: nil, error: "Not added: \(full.description).")
            }
        }
        post("/console/optout/remove", router, needs: ConsoleAction.optOut) { _, s, form in
            let phone = Self.number(form["phone"] ?? "")
            guard !phone.isEmpty else { return try await self.optOutPage(s, notice: nil, error: "No phone given.") }
            let removed = try await self.store.optIn(
                account: s.account,
                phones: [phone],
                source: "console",
                nowMs: self.clock()
            )
            try await self.gateway.optOut.catchUp(from: self.store)
            return try await self.optOutPage(s, notice: removed == 1 ? "+\(phone) removed." : nil, error: nil)
        }
    }

    func inboundContent(_ s: ConsoleSessions.Session, from: String) async throws -> HTML {
        let rows = try await store.inboundWithPush(account: s.account, from: from.isEmpty ? nil : from, limit: 200)
        let filter: HTML =
            from.isEmpty
            ? "<p class=\"muted\">Customers' messages to this account, newest first (the last 200).</p>"
            : "<p class=\"muted\">From +\(from) only. <a href=\"/console/inbound\">All</a></p>"
        return filter
            + HTML.table(
                ["Received", "From", "To", "Text", "Parts", "Push"],
                rows.map { r in
                    let m = r.message
                    return [
                        "\(HTML.time(m.receivedAtMs))", "<a href=\"/console/inbound?from=\(m.from)\">+\(m.from)</a>",
                        "\(m.to)", "\(m.text)\(m.encoding == "hex" ? " (hex)" : "")",
                        "\(m.parts)\(m.incomplete ? " (incomplete)" : "")", "\(Self.pushState(r.push))",
                    ]
                },
                empty: "No inbound message yet."
            )
    }

    static func pushState(_ push: InboundRow.Push) -> String {
        switch push {
        case .none: "kept (no inbound URL)"
        case .waiting(0, _): "waiting"
        case .waiting(let n, let error): "retrying (\(n) failed: \(error))"
        case .parked(_, let error): "parked: \(error) (petrel inbound retry)"
        case .pushed(let at): "pushed \(HTML.time(at))"
        }
    }

    func optOutPage(_ s: ConsoleSessions.Session, notice: String?, error: String?) async throws -> Response {
        let listed = try await store.optOuts(account: s.account, limit: 1000)
        var body = notice.map { "<div class=\"notice\" id=\"optout-notice\">\($0)</div>" as HTML } ?? ""
        body += error.map { "<p class=\"error\" id=\"optout-error\">\($0)</p>" as HTML } ?? ""
        body += """
            <p class="muted">Phones here are refused this account's MKT messages (and NOTIFY where optOut.appliesTo \
            says so; never OTP) with isv.BLACK_KEY_CONTROL_LIMIT. A reply of STOP puts a phone here, START takes it off.</p>
            <form method="post" action="/console/optout/add" class="grid" id="optout-form">\(HTML.csrfField(s))
            <label class="wide">Phone numbers, with their country code (one a line, up to 1000) \
            <textarea name="phones" id="optout-phones" required></textarea></label>
            <button type="submit" id="optout-add">Add to the list</button></form>
            """
        body += HTML.table(
            ["Phone", "Since", "Source", ""],
            listed.map { e in
                [
                    "+\(e.phone)", "\(HTML.time(e.changedAtMs))", "\(e.source)",
                    """
                    <form method="post" action="/console/optout/remove" class="inline">\(HTML.csrfField(s))\
                    <input type="hidden" name="phone" value="\(e.phone)">\
                    <button type="submit" class="secondary" data-phone="\(e.phone)">Remove</button></form>
                    """,
                ]
            },
            empty: "No phone has opted out."
        )
        return Self.html(HTML.page(title: "Opt-out", active: "/console/optout", session: s, body: body))
    }
}
