import Hummingbird
import PetrelAPI
import PetrelCore
import PetrelStore

/// The Limits page (an account's `limits:` and its caps' counters) and the cap banner every page shows. Keys see
/// their own account; `petrel:Operate` keys see every account.
extension Console {
    func registerLimits(_ router: Router<PetrelRequestContext>) {
        get("/console/limits", router, needs: ConsoleAction.limits) { _, s in
            let body = try await self.limitsPage(s)
            return Self.html(HTML.page(title: "Limits", active: "/console/limits", session: s, body: body))
        }
        post("/console/limits/lift", router, needs: ConsoleAction.limits) { _, s, form in
            let account = form["account"] ?? ""
            guard account == s.account || s.may(ConsoleAction.operate) else {
                return Self.text("this key may lift halts of its own account only\n", status: .forbidden)
            }
            // "unknown": the halt of numbers whose country Petrel cannot tell (stored as ""); absent or empty: every
            // halt of the account.
            let country = form["country"].flatMap { $0.isEmpty ? nil : $0.lowercased() == "unknown" ? "" : $0 }
            let lifted = try await self.store.liftPumpingHalts(account: account, country: country, nowMs: self.clock())
            // This node refuses by its copy of the halts: refreshed now, not at the next second.
            self.gateway.pumpingHalts.replace(try await self.store.pumpingHalts(account: nil))
            let what =
                lifted.isEmpty
                ? "No halt was in force there." : "Lifted: \(lifted.map(Self.haltName).joined(separator: "; "))."
            let body = "<div class=\"notice\" id=\"lift-notice\">\(what)</div>" as HTML + (try await self.limitsPage(s))
            // The banner was read before the lift.
            return try await Self.$banner.withValue(await self.capBanner(s)) {
                Self.html(HTML.page(title: "Limits", active: "/console/limits", session: s, body: body))
            }
        }
    }

    func limitsPage(_ s: ConsoleSessions.Session) async throws -> HTML {
        let now = clock()
        let all = s.may(ConsoleAction.operate)
        let counters = try await store.capCounters(account: all ? nil : s.account, nowMs: now)
        var accounts = Set([s.account])
        if all {
            accounts.formUnion(try await store.accounts().map(\.name))
            accounts.formUnion(counters.map(\.account))
        }
        var body: HTML = """
            <p class="muted">Set in the config's <code>limits:</code> (docs/configuration.md, "Sending limits"). \
            Per-number windows are rolling; caps count parts per calendar hour, day and month in UTC, across all \
            nodes.</p>
            """
        let halts = try await store.pumpingHalts(account: all ? nil : s.account)
        accounts.formUnion(halts.map(\.account))
        for account in accounts.sorted() {
            let mine = counters.filter { $0.account == account }
            body += Self.limitsSection(
                account,
                gateway.sendLimits(account: account),
                mine,
                halts: halts.filter { $0.account == account },
                session: s,
                nowMs: now
            )
        }
        return body
    }

    static func limitsSection(
        _ account: String,
        _ limits: SendLimits?,
        _ counters: [CapCounter],
        halts: [PumpingHalt] = [],
        session: ConsoleSessions.Session? = nil,
        nowMs: Int64
    ) -> HTML {
        var out: HTML = "<section class=\"limits\" data-account=\"\(account)\"><h2>Account \(account)</h2>"
        guard let limits else {
            // Halts outlive the guard that made them (taken out of the config): still listed, to be lifted.
            let none: HTML = "<p class=\"empty\">No limits: this account's sends are not limited.</p>"
            return out + none + (halts.isEmpty ? "" : haltList(account, halts, session)) + "</section>"
        }
        let numbers = limits.perNumber
        var rows = numbers.byType.sorted { $0.key.rawValue < $1.key.rawValue }.map {
            windowRow($0.key.rawValue, $0.value)
        }
        if let any = numbers.anyType { rows.append(windowRow("* (any Type)", any)) }
        out += "<h3>Per number (rolling windows)</h3>"
        out += HTML.table(["Type", "Minute", "Hour", "Day"], rows, empty: "No per-number limits.")
        out += allowNumbers(numbers.allowNumbers)
        out += "<h3>Countries</h3><p class=\"countries\">\(countries(limits.countries))</p>"
        out += "<h3>Caps (parts)</h3>"
        out += capTable(CapUse.of(limits.caps.caps, counters: counters, nowMs: nowMs))
        out += pumpingGuard(limits)
        out += haltList(account, halts, session)
        return out + "</section>"
    }

    static func windowRow(_ type: String, _ counts: WindowCounts) -> [HTML] {
        func cell(_ n: Int?) -> HTML { n.map { "\($0)" } ?? "<span class=\"muted\">–</span>" }
        return ["\(type)", cell(counts.minute), cell(counts.hour), cell(counts.day)]
    }

    /// At most 50 numbers are listed: a list of thousands would drown the page.
    static func allowNumbers(_ numbers: Set<String>) -> HTML {
        guard !numbers.isEmpty else { return "" }
        let shown = numbers.sorted().prefix(50)
        let more = numbers.count > shown.count ? " and \(numbers.count - shown.count) more" : ""
        return "<p>Never limited per number (allowNumbers): \(shown.joined(separator: ", "))\(more)</p>"
    }

    static func countries(_ rule: CountryRule?) -> String {
        switch rule {
        case nil: return "Every country."
        case .allow(let set): return "Only to: \(set.sorted().joined(separator: ", "))."
        case .deny(let set): return "Every country but: \(set.sorted().joined(separator: ", "))."
        }
    }

    static func capTable(_ uses: [CapUse]) -> HTML {
        let rows = uses.map { u -> [HTML] in
            [
                "\(u.country ?? "all")", "\(u.window.rawValue)", "\(u.used) / \(u.limit)", bar(u),
                "\(u.warnAt.map { "\($0)" } ?? "–")", "\(HTML.time(u.end))", levelBadge(u.level),
            ]
        }
        return HTML.table(
            ["Country", "Window", "Used / cap", "", "warnAt", "Starts again", "State"],
            rows,
            empty: "No caps."
        )
    }

    /// Inline SVG: the console's Content-Security-Policy allows no inline style to size an element.
    static func bar(_ u: CapUse) -> HTML {
        let width = 120
        let color = u.level == .reached ? "#cf222e" : u.level == .warning ? "#9a6700" : "#0b6bcb"
        return """
            <svg width="\(width)" height="12" role="img" aria-label="\(Int(u.share * 100))% used">\
            <rect width="\(width)" height="12" rx="3" fill="#e3e7ee"/>\
            <rect width="\(Int((u.share * Double(width)).rounded()))" height="12" rx="3" fill="\(color)"/></svg>
            """
    }

    static func levelBadge(_ level: CapUse.Level) -> HTML {
        switch level {
        case .ok: return "<span class=\"status s-delivered\">ok</span>"
        case .warning: return "<span class=\"status s-queued\">past warnAt</span>"
        case .reached: return "<span class=\"status s-failed\">reached</span>"
        }
    }

    static func pumpingGuard(_ limits: SendLimits) -> HTML {
        guard let g = limits.pumpingGuard else {
            return "<h3>Pumping guard</h3><p class=\"muted\">None: no conversion rate halts this account's sends.</p>"
        }
        let rate = Int((g.minConversionRate * 100).rounded())
        return """
            <h3>Pumping guard</h3><p class="guard">\(g.type.rawValue) to one country is halted when at least \
            \(g.minSent) were sent within \(Self.span(g.windowMs)) and under \(rate)% of them were \
            reported converted (SmsConversion).</p>
            """
    }

    /// A window as the config writes it (`1h`, `30m`, `45s`).
    static func span(_ ms: Int64) -> String {
        if ms % 3_600_000 == 0 { return "\(ms / 3_600_000)h" }
        if ms % 60_000 == 0 { return "\(ms / 60_000)m" }
        return "\(Double(ms) / 1000)s"
    }

    /// The pumping guard's halts of one account, each with a form to lift it (a reached cap has none: it rolls
    /// over by itself).
    static func haltList(_ account: String, _ halts: [PumpingHalt], _ s: ConsoleSessions.Session?) -> HTML {
        let rows = halts.sorted { $0.country < $1.country }.map { h -> [HTML] in
            var lift: HTML = ""
            if let s {
                lift = """
                    <form method="post" action="/console/limits/lift" class="inline" \
                    data-confirm="Lift the halt of \(h.type.rawValue) to \(h.place)? Its sends go again at once.">\
                    \(HTML.csrfField(s))<input type="hidden" name="account" value="\(account)">\
                    <input type="hidden" name="country" value="\(h.country.isEmpty ? "unknown" : h.country)">\
                    <button type="submit" class="secondary">Lift</button></form>
                    """
            }
            return [
                "\(h.place)", "\(h.type.rawValue)", "\(HTML.time(h.haltedAtMs))", "\(h.sent)", "\(h.converted)",
                "\(Int((h.rate * 100).rounded()))%", lift,
            ]
        }
        return "<h3>Halts</h3>"
            + HTML.table(
                ["Country", "Type", "Halted", "Sent", "Converted", "Rate", ""],
                rows,
                empty: "No halts."
            )
    }

    static func haltName(_ h: PumpingHalt) -> String { "\(h.type.rawValue) to \(h.place) from \(h.account)" }

    // MARK: The banner

    /// Set by `get` and `post` for the page they render (`HTML.page` shows it).
    @TaskLocal static var banner: HTML = ""

    /// Whether `path` renders a whole page (fragments and the JSON API have no banner, and are polled).
    static func showsBanner(_ path: String) -> Bool {
        !path.hasPrefix("/console/fragment/") && !path.hasPrefix("/console/api/")
    }

    /// One line per cap window of the session's account (every account's, for operators) past its warnAt or
    /// reached; empty when there is none (or no caps), without reading the store for an account without caps.
    func capBanner(_ s: ConsoleSessions.Session) async -> HTML {
        let all = s.may(ConsoleAction.operate)
        // The pumping guard's halts from this node's copy (no store read per page).
        let halts = gateway.pumpingHalts.all.filter { all || $0.account == s.account }
            .sorted { ($0.account, $0.country) < ($1.account, $1.country) }
        let haltLines = halts.map { "<li>\(Self.haltLine($0))</li>" as HTML }
        guard all || !(gateway.sendLimits(account: s.account)?.caps.isEmpty ?? true) else {
            return banner(haltLines, s)
        }
        let now = clock()
        let counters: [CapCounter]
        do {
            counters = try await store.capCounters(account: all ? nil : s.account, nowMs: now)
        } catch {
            return
                "<div class=\"banner error\">The caps' counters could not be read: \(StoreErrorText.sentence(error)).</div>"
        }
        let accounts = Set(counters.map(\.account)).union([s.account]).sorted()
        let caps = accounts.flatMap { gateway.sendLimits(account: $0)?.caps.caps ?? [] }
        let alerts = CapUse.of(caps, counters: counters, nowMs: now).filter { $0.level != .ok }
            .sorted { $0.level > $1.level }
        return banner(haltLines + alerts.map { "<li>\(Self.bannerLine($0))</li>" as HTML }, s)
    }

    func banner(_ lines: [HTML], _ s: ConsoleSessions.Session) -> HTML {
        guard !lines.isEmpty else { return "" }
        let link: HTML = s.may(ConsoleAction.limits) ? " <a href=\"/console/limits\">Limits</a>" : ""
        return "<div class=\"banner error\" id=\"cap-banner\"><ul>\(lines.joined())</ul>\(link)</div>"
    }

    static func haltLine(_ h: PumpingHalt) -> String {
        "Pumping guard: \(haltName(h)) halted since \(HTML.time(h.haltedAtMs)) (\(h.sent) sent, \(h.converted) "
            + "reported converted). Sends are refused with OUT_OF_SERVICE until an operator lifts it."
    }

    static func bannerLine(_ u: CapUse) -> String {
        let scope = "account \(u.account), \(u.country ?? "all countries"), this \(u.window.rawValue) (UTC)"
        let figures = "\(u.used) of \(u.limit) parts"
        switch u.level {
        case .reached:
            return "Cap reached: \(scope): \(figures). Sends are refused with OUT_OF_SERVICE until "
                + "\(HTML.time(u.end))."
        default:
            return "Cap warning: \(scope): \(figures) (\(Int(u.share * 100))%), past warnAt \(u.warnAt ?? 0)."
        }
    }
}
