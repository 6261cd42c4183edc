import Foundation
import Hummingbird
import PetrelAPI
import PetrelCore
import PetrelStore

/// Overview, channels and receipts.
extension Console {
    func registerPages(_ router: Router<PetrelRequestContext>) {
        get("/console", router, needs: nil) { request, s in
            let body: HTML = """
                <div id="overview" data-refresh="/console/fragment/overview">\
                \(try await self.overview(s, host: Self.host(request)))</div>
                """
            return Self.html(HTML.page(title: "Overview", active: "/console", session: s, body: body))
        }
        get("/console/fragment/overview", router, needs: nil) { request, s in
            Self.html(try await self.overview(s, host: Self.host(request)))
        }
        get("/console/messages", router, needs: ConsoleAction.query) { request, s in
            try await self.messages(request, s)
        }
        get("/console/messages/{id}", router, needs: ConsoleAction.query) { request, s in
            try await self.message(request, s)
        }
        get("/console/channels", router, needs: ConsoleAction.channels) { _, s in
            var body: HTML =
                "<div data-refresh=\"/console/fragment/channels\">\(try await self.channelsFragment(s))</div>"
            if await self.channels().allSatisfy({ $0.kind == "sandbox" }) { body += Teach.addCarrier }
            return Self.html(HTML.page(title: "Channels", active: "/console/channels", session: s, body: body))
        }
        get("/console/fragment/channels", router, needs: ConsoleAction.channels) { _, s in
            Self.html(try await self.channelsFragment(s))
        }
        get("/console/receipts", router, needs: ConsoleAction.receipts) { request, s in
            try await self.receipts(request, s, notice: nil)
        }
        post("/console/receipts/replay", router, needs: ConsoleAction.receipts) { request, s, form in
            var filter = ReceiptFilter(account: s.account)
            if let t = form["task_id"], !t.isEmpty { filter.taskId = t }
            if let m = form["message_id"], !m.isEmpty { filter.messageId = Int64(m) ?? -1 }
            if let since = form["since"], !since.isEmpty { filter.sinceMs = Self.parseTime(since) }
            // The first submit says what a replay would do; only the confirmation's submit does it.
            guard form["confirm"] == "yes" else {
                let n = try await self.store.replayableReceipts(filter)
                return try await self.receipts(request, s, notice: nil, ask: Self.askReplay(n, filter, form, s))
            }
            let n = try await self.store.replayReceipts(filter, nowMs: self.clock())
            return try await self.receipts(request, s, notice: "\(n) receipt(s) queued to be pushed again.")
        }
        post("/console/receipts/retry", router, needs: ConsoleAction.receipts) { request, s, form in
            guard form["confirm"] == "yes" else {
                let n = try await self.store.outboxCounts(account: s.account).parked
                return try await self.receipts(request, s, notice: nil, ask: Self.askRetry(n, s))
            }
            let n = try await self.store.retryParked(account: s.account, nowMs: self.clock())
            return try await self.receipts(request, s, notice: "\(n) parked receipt(s) moved back to the outbox.")
        }
    }

    // MARK: Overview

    /// The address this page was asked for, for the lines it teaches (escaped where it is shown).
    static func host(_ request: Request) -> String {
        request.head.authority ?? "127.0.0.1:8080"
    }

    /// One message of the account, if it has any.
    static func anyMessage(_ account: String) -> MessageQuery {
        var q = MessageQuery(account: account)
        q.limit = 1
        return q
    }

    func overview(_ s: ConsoleSessions.Session, host: String) async throws -> HTML {
        let now = clock()
        let minute: Int64 = 60_000
        let since = (now / minute - 59) * minute
        let series = try await store.statusSeries(account: s.account, sinceMs: since, bucketMs: minute)
        var totals: [MessageStatus: Int] = [:]
        for b in series { for (k, v) in b.counts { totals[k, default: 0] += v } }
        let lastMinute = series.filter { $0.startMs >= now - 2 * minute && $0.startMs < (now / minute) * minute }
            .reduce(0) { $0 + $1.counts.values.reduce(0, +) }
        let all = totals.values.reduce(0, +)
        let waiting = (totals[.queued] ?? 0) + (totals[.submitting] ?? 0) + (totals[.sent] ?? 0)
        var cards: [(Int, String)] = [
            (all, "messages in the last hour"),
            (totals[.delivered] ?? 0, "delivered"),
            ((totals[.failed] ?? 0) + (totals[.expired] ?? 0), "failed or expired"),
            (waiting, "waiting (queued, sending, sent)"),
            (lastMinute, "accepted in the last full minute (\(lastMinute / 60)/s)"),
        ]
        // The whole queue is other accounts' business too: operators only.
        if s.may(ConsoleAction.operate) {
            cards.append((try await store.queueDepth().values.reduce(0, +), "queue depth (all accounts)"))
        }
        let figures = cards.map {
            "<div class=\"card\"><div class=\"n\">\($0.0)</div><div class=\"l\">\($0.1)</div></div>" as HTML
        }
        var out: HTML = "<div class=\"cards\">\(figures.joined())</div>"
        if all == 0, try await store.searchMessages(Self.anyMessage(s.account)).isEmpty {
            out += Teach.firstMessage(host: host, keyId: s.keyId, inbox: s.may(ConsoleAction.query))
        }
        if s.may(ConsoleAction.query) {
            out += """
                <p><a href="/console/statistics" id="overview-statistics">Statistics: by day, hour, country, channel \
                and Type, with delivery rates, times to delivery and error codes</a></p>
                """
        }
        out += "<h2>Messages by status, last hour (by minute of acceptance)</h2>"
        out += Chart.statusBars(series, since: since, bucketMs: minute, buckets: 60)
        out += "<h2>Channels</h2>" + (await channelTable(s))
        return out
    }

    /// The Channels page's part that refreshes: the carriers, then the SMPP server (when there is one).
    func channelsFragment(_ s: ConsoleSessions.Session) async throws -> HTML {
        await channelTable(s) + (try await smppServerSection(s))
    }

    /// Operators see every carrier's address, system id and counters; other keys see channel names and states.
    func channelTable(_ s: ConsoleSessions.Session) async -> HTML {
        let full = s.may(ConsoleAction.operate)
        let rows = await channels().map { c -> [HTML] in
            let sandbox = c.kind == "sandbox"
            let state =
                if sandbox {
                    "ready"
                } else if c.kind == "http" {
                    // An HTTP channel has no binds: it is down after failing to reach its provider, for a while.
                    c.bound > 0 ? "ready" : "down"
                } else {
                    c.bound > 0 ? "bound \(c.bound)/\(c.sessions)" : "not bound (0/\(c.sessions))"
                }
            let badgeClass = c.bound > 0 || sandbox ? "s-delivered" : "s-failed"
            let badge: HTML = "<span class=\"status \(badgeClass)\">\(state)</span>"
            guard full else { return ["\(c.id)", badge] }
            return [
                "\(c.id)", "\(c.kind)", "\(c.target)", badge, "\(sandbox ? "–" : "\(c.inFlight) / \(c.window)")",
                "\(c.tps > 0 ? String(format: "%.0f", c.tps) : "unlimited")",
                "\(sandbox ? "–" : "\(c.accepted) / \(c.refused) / \(c.noResponse)")",
                "\(sandbox ? "–" : "\(c.connectFailures) / \(c.sessionsClosed)")", "\(c.lastError)",
            ]
        }
        guard full else { return HTML.table(["Channel", "State"], rows) }
        return HTML.table(
            [
                "Channel", "Kind", "Target", "State", "Window in use", "TPS limit",
                "Submits accepted / refused / unanswered", "Connect failures / sessions lost", "Last error",
            ],
            rows
        )
    }

    // MARK: Receipts

    func receipts(
        _ request: Request,
        _ s: ConsoleSessions.Session,
        notice: String?,
        ask: HTML? = nil
    ) async throws -> Response {
        let account = try await store.accounts().first { $0.name == s.account }
        let parked = try await store.parkedReceipts(account: s.account, limit: 200)
        let counts = try await store.outboxCounts(account: s.account)
        let url = account.map(\.receiptURL).flatMap { $0.isEmpty ? nil : $0 } ?? "none"
        var body = notice.map { "<p class=\"notice\" role=\"status\">\($0)</p>" as HTML } ?? ""
        body += ask ?? ""
        body += """
            <div class="cards"><div class="card"><div class="n" id="outbox-pending">\(counts.pending)</div>\
            <div class="l">receipts waiting to be pushed</div></div>\
            <div class="card"><div class="n" id="outbox-parked">\(counts.parked)</div>\
            <div class="l">parked (given up on for now)</div></div></div>\
            <p>Receipt URL: <code>\(url)</code></p>
            """
        body += await webhookSections(s, account)
        body +=
            "<h2>Parked receipts</h2>"
            + HTML.table(
                ["MessageId", "To", "Status", "Attempts", "Last error"],
                parked.map { r in
                    [
                        "<a href=\"/console/messages/\(r.message.id)\">\(r.message.id)</a>", "\(r.message.to)",
                        Self.status(r.message.status), "\(r.attempts)", "\(r.lastError)",
                    ]
                },
                empty: "No parked receipts."
            )
        body += """
            <form method="post" action="/console/receipts/retry" class="inline">\(HTML.csrfField(s))\
            <button type="submit">Retry parked receipts</button></form>
            <h2>Replay receipts</h2>
            <form method="post" action="/console/receipts/replay" class="grid">\(HTML.csrfField(s))
            <label>TaskId <input name="task_id"></label><label>MessageId <input name="message_id"></label>
            <label>Finished since (\(HTML.zoneName)) <input type="datetime-local" name="since"></label>
            <button type="submit">Replay</button></form>
            """
        return Self.html(HTML.page(title: "Receipts", active: "/console/receipts", session: s, body: body))
    }

    static func status(_ s: MessageStatus) -> HTML {
        "<span class=\"status s-\(s.name)\">\(s.name)</span>"
    }

    /// `2026-11-26T08:00` (a datetime-local field, read in the console's zone, `HTML.zoneName`, as every time it
    /// shows) or with seconds; Unix milliseconds.
    static func parseTime(_ text: String) -> Int64? {
        var t = text.trimmingCharacters(in: CharacterSet(charactersIn: " "))
        if t.count == 16 { t += ":00" }
        if !t.hasSuffix("Z") { t += "Z" }
        return AlibabaDate.parseISO8601(t).map { ($0 - Int64(HTML.offsetSeconds)) * 1000 }
    }
}
