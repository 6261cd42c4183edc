import Foundation
import Hummingbird
import PetrelAPI
import PetrelCore
import PetrelStore

/// Overview, messages, channels, receipts, keys and templates.
extension Console {
    func registerPages(_ router: Router<PetrelRequestContext>) {
        get("/console", router, needs: nil) { _, s in
            let body = "<div id=\"overview\" data-refresh=\"/console/fragment/overview\">\(try await self.overview(s))</div>"
            return Self.html(HTML.page(title: "Overview", active: "/console", session: s, body: body))
        }
        get("/console/fragment/overview", router, needs: nil) { _, s in Self.html(try await self.overview(s)) }
        get("/console/messages", router, needs: ConsoleAction.query) { request, s in try await self.messages(request, s) }
        get("/console/messages/{id}", router, needs: ConsoleAction.query) { request, s in try await self.message(request, s) }
        get("/console/channels", router, needs: ConsoleAction.channels) { _, s in
            let body = "<div data-refresh=\"/console/fragment/channels\">\(await self.channelTable(s))</div>"
            return Self.html(HTML.page(title: "Channels", active: "/console/channels", session: s, body: body))
        }
        get("/console/fragment/channels", router, needs: ConsoleAction.channels) { _, s in Self.html(await self.channelTable(s)) }
        get("/console/receipts", router, needs: ConsoleAction.receipts) { request, s in try await self.receipts(request, s, notice: nil) }
        post("/console/receipts/replay", router, needs: ConsoleAction.receipts) { request, s, form in
            var filter = ReceiptFilter(account: s.account)
            if let t = form["task_id"], !t.isEmpty { filter.taskId = t }
            if let m = form["message_id"], !m.isEmpty { filter.messageId = Int64(m) ?? -1 }
            if let since = form["since"], !since.isEmpty { filter.sinceMs = Self.parseTime(since) }
            let n = try await self.store.replayReceipts(filter, nowMs: self.clock())
            return try await self.receipts(request, s, notice: "\(n) receipt(s) queued to be pushed again.")
        }
        post("/console/receipts/retry", router, needs: ConsoleAction.receipts) { request, s, _ in
            let n = try await self.store.retryParked(account: s.account, nowMs: self.clock())
            return try await self.receipts(request, s, notice: "\(n) parked receipt(s) moved back to the outbox.")
        }
    }

    // MARK: Overview

    func overview(_ s: ConsoleSessions.Session) async throws -> String {
        let now = clock()
        let minute: Int64 = 60_000
        let since = (now / minute - 59) * minute
        let series = try await store.statusSeries(account: s.account, sinceMs: since, bucketMs: minute)
        var totals: [MessageStatus: Int] = [:]
        for b in series { for (k, v) in b.counts { totals[k, default: 0] += v } }
        let lastMinute = series.filter { $0.startMs >= now - 2 * minute && $0.startMs < (now / minute) * minute }
            .reduce(0) { $0 + $1.counts.values.reduce(0, +) }
        let all = totals.values.reduce(0, +)
        var cards: [(String, String)] = [
            ("\(all)", "messages in the last hour"),
            ("\(totals[.delivered] ?? 0)", "delivered"),
            ("\((totals[.failed] ?? 0) + (totals[.expired] ?? 0))", "failed or expired"),
            ("\((totals[.queued] ?? 0) + (totals[.submitting] ?? 0) + (totals[.sent] ?? 0))", "waiting (queued, sending, sent)"),
            ("\(lastMinute)", "accepted in the last full minute (\(lastMinute / 60)/s)"),
        ]
        // The whole queue is other accounts' business too: operators only.
        if s.may(ConsoleAction.operate) {
            cards.append(("\(try await store.queueDepth().values.reduce(0, +))", "queue depth (all accounts)"))
        }
        var out = "<div class=\"cards\">" + cards.map { "<div class=\"card\"><div class=\"n\">\($0.0)</div><div class=\"l\">\(HTML.escape($0.1))</div></div>" }.joined() + "</div>"
        out += "<h2>Messages by status, last hour (by minute of acceptance)</h2>" + Chart.statusBars(series, since: since, bucketMs: minute, buckets: 60)
        out += "<h2>Channels</h2>" + (await channelTable(s))
        return out
    }

    /// Operators see every carrier's address, system id and counters; other keys see channel names and states.
    func channelTable(_ s: ConsoleSessions.Session) async -> String {
        let full = s.may(ConsoleAction.operate)
        let rows = await channels().map { c -> [String] in
            let state = c.kind == "sandbox" ? "ready" : (c.bound > 0 ? "bound \(c.bound)/\(c.sessions)" : "not bound (0/\(c.sessions))")
            let badge = "<span class=\"status \(c.bound > 0 || c.kind == "sandbox" ? "s-delivered" : "s-failed")\">\(state)</span>"
            guard full else { return [HTML.escape(c.id), badge] }
            return [
                HTML.escape(c.id), HTML.escape(c.kind), HTML.escape(c.target),
                badge, c.kind == "sandbox" ? "–" : "\(c.inFlight) / \(c.window)", c.tps > 0 ? String(format: "%.0f", c.tps) : "unlimited",
                c.kind == "sandbox" ? "–" : "\(c.accepted) / \(c.refused) / \(c.noResponse)",
                c.kind == "sandbox" ? "–" : "\(c.connectFailures) / \(c.sessionsClosed)", HTML.escape(c.lastError),
            ]
        }
        guard full else { return HTML.table(["Channel", "State"], rows) }
        return HTML.table(
            ["Channel", "Kind", "Target", "State", "Window in use", "TPS limit", "Submits accepted / refused / unanswered",
             "Connect failures / sessions lost", "Last error"], rows)
    }

    // MARK: Messages

    func messages(_ request: Request, _ s: ConsoleSessions.Session) async throws -> Response {
        let q = request.uri.queryParameters
        func value(_ k: String) -> String { q[Substring(k)].map { String($0).trimmingCharacters(in: CharacterSet(charactersIn: " ")) } ?? "" }
        var query = MessageQuery(account: s.account)
        query.to = value("to").trimmingCharacters(in: CharacterSet(charactersIn: "+"))
        if query.to.hasPrefix("00") { query.to.removeFirst(2) }
        query.taskId = value("task_id")
        var problems: [String] = []
        if !value("message_id").isEmpty {
            if let id = Int64(value("message_id")) { query.messageId = id } else { problems.append("MessageId must be a number.") }
        }
        if !value("status").isEmpty { query.status = MessageStatus.allCases.first { HTML.statusName($0) == value("status") } }
        if !value("since").isEmpty {
            if let t = Self.parseTime(value("since")) { query.sinceMs = t } else { problems.append("From must be a time like 2026-11-26T08:00.") }
        }
        if !value("until").isEmpty {
            if let t = Self.parseTime(value("until")) { query.untilMs = t } else { problems.append("Until must be a time like 2026-11-26T09:00.") }
        }
        query.limit = 200
        let found = problems.isEmpty ? try await store.searchMessages(query) : []
        let statusOptions = ([""] + MessageStatus.allCases.map(HTML.statusName)).map {
            "<option value=\"\($0)\"\($0 == value("status") ? " selected" : "")>\($0.isEmpty ? "any" : $0)</option>"
        }.joined()
        var body = """
            <form method="get" action="/console/messages" class="grid">
            <label>Number <input name="to" value="\(HTML.escape(value("to")))" placeholder="85291234567"></label>
            <label>TaskId <input name="task_id" value="\(HTML.escape(value("task_id")))"></label>
            <label>MessageId <input name="message_id" value="\(HTML.escape(value("message_id")))"></label>
            <label>Status <select name="status">\(statusOptions)</select></label>
            <label>From (UTC) <input type="datetime-local" name="since" value="\(HTML.escape(value("since")))"></label>
            <label>Until (UTC) <input type="datetime-local" name="until" value="\(HTML.escape(value("until")))"></label>
            <button type="submit">Search</button>
            </form>
            """
        body += problems.map { "<p class=\"error\">\(HTML.escape($0))</p>" }.joined()
        body += "<p class=\"muted\">\(found.count == query.limit ? "The newest \(query.limit) matches" : "\(found.count) message(s)").</p>"
        body += HTML.table(
            ["MessageId", "To", "Status", "Type", "TaskId", "Parts", "Accepted (UTC)", "Text"],
            found.map { m in
                [
                    "<a href=\"/console/messages/\(m.id)\">\(m.id)</a>", HTML.escape(m.to), Self.status(m.status), m.type.rawValue,
                    HTML.escape(m.taskId), "\(m.segments)", HTML.time(m.createdAtMs), HTML.escape(String(m.text.prefix(60))),
                ]
            }, empty: "No message matches.")
        return Self.html(HTML.page(title: "Messages", active: "/console/messages", session: s, body: body))
    }

    func message(_ request: Request, _ s: ConsoleSessions.Session) async throws -> Response {
        let idText = Self.pathComponent(request, after: "messages")
        // Another account's message answers exactly like a missing one.
        guard let id = Int64(idText), let m = try await store.message(id: id, account: s.account) else {
            return Self.html(HTML.page(title: "Message not found", active: "/console/messages", session: s,
                body: "<p>No message \(HTML.escape(idText)) in this account.</p>"), status: .notFound)
        }
        let events = try await store.events(messageId: id)
        let parts = try await store.parts(messageId: id)
        let fields: [(String, String)] = [
            ("MessageId", "\(m.id)"), ("To", m.to), ("From", m.from.isEmpty ? "(default)" : m.from), ("Type", m.type.rawValue),
            ("TaskId", m.taskId), ("Status", HTML.statusName(m.status)), ("Error", m.errorCode.isEmpty ? "" : "\(m.errorCode) \(m.errorDescription)"),
            ("Encoding", m.encoding == .gsm7 ? "GSM 03.38 (7-bit)" : "UCS-2"), ("Parts", "\(m.segments)"),
            ("Route", m.channel.isEmpty ? (m.requestedChannel.isEmpty ? "not routed yet" : "requested \(m.requestedChannel)") : m.channel),
            ("Carrier id", m.carrierMessageId.isEmpty && m.channel == "sandbox" ? "none (the sandbox has no carrier ids)" : m.carrierMessageId), ("Accepted", HTML.time(m.createdAtMs)), ("Sent", HTML.time(m.sentAtMs)),
            ("Finished", HTML.time(m.doneAtMs)), ("Valid until", HTML.time(m.expiresAtMs)),
        ]
        var body = "<div class=\"scroll\"><table>" + fields.map { "<tr><th>\($0.0)</th><td>\(HTML.escape($0.1))</td></tr>" }.joined() + "</table></div>"
        body += "<h2>Text</h2><div class=\"bubble\" id=\"message-text\">\(HTML.escape(m.text))</div>"
        let sms = SMSText(m.text)
        body += "<h2>Parts as sent</h2>" + HTML.table(
            ["Part", "Text", "Channel", "Carrier id", "Receipt", "Sent", "Receipt at"],
            sms.parts.enumerated().map { i, text in
                let p = parts.first { $0.part == i + 1 }
                return [
                    "\(i + 1)/\(sms.segments)", HTML.escape(text), HTML.escape(p?.channel ?? ""), HTML.escape(p?.carrierId ?? ""),
                    p.map { Self.status($0.status) + ($0.errorCode.isEmpty ? "" : " \(HTML.escape($0.errorCode))") } ?? "",
                    HTML.time(p?.sentAtMs), HTML.time(p?.doneAtMs),
                ]
            })
        body += "<h2>Status changes</h2>" + HTML.table(
            ["At (UTC)", "Status", "Detail"],
            [[HTML.time(m.createdAtMs), Self.status(.queued), "accepted"]]
                + events.map { [HTML.time($0.atMs), Self.status($0.status), HTML.escape($0.detail)] })
        return Self.html(HTML.page(title: "Message \(m.id)", active: "/console/messages", session: s, body: body))
    }

    // MARK: Receipts, keys

    func receipts(_ request: Request, _ s: ConsoleSessions.Session, notice: String?) async throws -> Response {
        let account = try await store.accounts().first { $0.name == s.account }
        let parked = try await store.parkedReceipts(account: s.account, limit: 200)
        let counts = try await store.outboxCounts(account: s.account)
        var body = notice.map { "<p class=\"notice\">\(HTML.escape($0))</p>" } ?? ""
        body += "<div class=\"cards\"><div class=\"card\"><div class=\"n\" id=\"outbox-pending\">\(counts.pending)</div><div class=\"l\">receipts waiting to be pushed</div></div>"
        body += "<div class=\"card\"><div class=\"n\" id=\"outbox-parked\">\(counts.parked)</div><div class=\"l\">parked (given up on for now)</div></div></div>"
        body += "<p>Receipt URL: <code>\(HTML.escape(account?.receiptURL.isEmpty == false ? account!.receiptURL : "none"))</code>"
        body += " <span class=\"muted\">(set with <code>petrel accounts set-receipt-url</code>)</span></p>"
        body += "<h2>Parked receipts</h2>" + HTML.table(
            ["MessageId", "To", "Status", "Attempts", "Last error"],
            parked.map { r in
                ["<a href=\"/console/messages/\(r.message.id)\">\(r.message.id)</a>", HTML.escape(r.message.to),
                 Self.status(r.message.status), "\(r.attempts)", HTML.escape(r.lastError)]
            }, empty: "No parked receipts.")
        body += """
            <form method="post" action="/console/receipts/retry" class="inline">\(HTML.csrfField(s))<button type="submit">Retry parked receipts</button></form>
            <h2>Replay receipts</h2>
            <form method="post" action="/console/receipts/replay" class="grid">\(HTML.csrfField(s))
            <label>TaskId <input name="task_id"></label><label>MessageId <input name="message_id"></label>
            <label>Finished since (UTC) <input type="datetime-local" name="since"></label>
            <button type="submit">Replay</button></form>
            """
        return Self.html(HTML.page(title: "Receipts", active: "/console/receipts", session: s, body: body))
    }

    static func status(_ s: MessageStatus) -> String {
        "<span class=\"status s-\(HTML.statusName(s))\">\(HTML.statusName(s))</span>"
    }

    /// `2026-11-26T08:00` (a datetime-local field, read as UTC) or with seconds; Unix milliseconds.
    static func parseTime(_ text: String) -> Int64? {
        var t = text.trimmingCharacters(in: CharacterSet(charactersIn: " "))
        if t.count == 16 { t += ":00" }
        if !t.hasSuffix("Z") { t += "Z" }
        return AlibabaDate.parseISO8601(t).map { $0 * 1000 }
    }
}
