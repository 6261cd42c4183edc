import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import PetrelAPI
import PetrelCore
import PetrelStore

/// The Statistics page: counters by day (and by hour for the last two days), country, channel, account and Type,
/// from `StatisticsStore` (counters, not the messages). A key sees its own account; an operator key every account or
/// one chosen. Filters are a plain GET form; `format=csv` downloads one of the tables (`by`).
extension Console {
    func registerStatistics(_ router: Router<PetrelRequestContext>) {
        get("/console/statistics", router, needs: ConsoleAction.query) { request, s in
            try await self.statistics(request, s)
        }
    }

    /// What the form asked, checked: every value bounded, nothing of it ever spliced into SQL.
    struct StatsForm {
        var filter: StatsFilter
        var fromDay: String
        var toDay: String
        var by: String
        var problems: [String] = []
    }

    /// The most days one page covers.
    static let statsMaxDays: Int64 = 366
    static let statsDefaultDays: Int64 = 7
    static let statsDimensions = ["day", "hour", "country", "channel", "account", "type"]

    /// Reads the form: dates as `2026-12-07` in the console's zone (default: the last 7 days), the account (an
    /// operator's choice; other keys always their own), a calling code, a channel and a Type.
    func statsForm(_ request: Request, _ s: ConsoleSessions.Session, nowMs: Int64) -> StatsForm {
        let q = request.uri.queryParameters
        func value(_ k: String, max: Int = 100) -> String {
            String((q[Substring(k)].map(String.init) ?? "").trimmingCharacters(in: .whitespaces).prefix(max))
        }
        let dayMs: Int64 = 86_400_000
        let offsetMs = Int64(HTML.offsetSeconds) * 1000
        let today = Self.floorDiv(nowMs + offsetMs, dayMs) * dayMs - offsetMs
        var problems: [String] = []
        func day(_ name: String, _ label: String, _ fallback: Int64) -> Int64 {
            let text = value(name, max: 20)
            guard !text.isEmpty else { return fallback }
            if text.count == 10, let ms = Self.parseTime(text + "T00:00") { return ms }
            problems.append("\(label) must be a date like 2026-12-07.")
            return fallback
        }
        var from = day("from", "From", today - (Self.statsDefaultDays - 1) * dayMs)
        var to = day("to", "To", today)
        if to < from {
            problems.append("To is before From: showing From's day only.")
            to = from
        }
        if (to - from) / dayMs >= Self.statsMaxDays {
            problems.append(
                "At most \(Self.statsMaxDays) days at once: showing the last \(Self.statsMaxDays) up to To."
            )
            from = to - (Self.statsMaxDays - 1) * dayMs
        }
        var filter = StatsFilter(fromMs: from, toMs: to + dayMs)
        if s.may(ConsoleAction.operate) {
            filter.account = value("account").isEmpty ? nil : value("account")
        } else {
            filter.account = s.account
        }
        let country = value("country", max: 10)
        if country == "unknown" {
            filter.country = ""
        } else if !country.isEmpty {
            if country.count <= 3, country.allSatisfy(\.isASCII), country.allSatisfy(\.isNumber) {
                filter.country = country
            } else {
                problems.append("Country must be a calling code such as 86 or 852.")
            }
        }
        let channel = value("channel")
        if channel == "(not sent)" {
            filter.channel = ""
        } else if !channel.isEmpty {
            filter.channel = channel
        }
        let type = value("type", max: 10)
        if !type.isEmpty {
            if let t = MessageType(rawValue: type) {
                filter.type = t.rawValue
            } else {
                problems.append("Type must be OTP, NOTIFY or MKT.")
            }
        }
        var by = value("by", max: 10)
        if by.isEmpty { by = "day" }
        if !Self.statsDimensions.contains(by) || (by == "account" && !s.may(ConsoleAction.operate)) {
            problems.append("A table is one of: \(Self.statsDimensions.joined(separator: ", ")).")
            by = "day"
        }
        return StatsForm(
            filter: filter,
            fromDay: String(AlibabaDate.plain(ms: from, offsetSeconds: HTML.offsetSeconds).prefix(10)),
            toDay: String(AlibabaDate.plain(ms: to, offsetSeconds: HTML.offsetSeconds).prefix(10)),
            by: by,
            problems: problems
        )
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        a >= 0 ? a / b : -((-a + b - 1) / b)
    }

    func statsDimension(_ by: String) -> StatsDimension {
        switch by {
        case "hour": .hour
        case "country": .country
        case "channel": .channel
        case "account": .account
        case "type": .type
        default: .day(offsetSeconds: HTML.offsetSeconds)
        }
    }

    func statistics(_ request: Request, _ s: ConsoleSessions.Session) async throws -> Response {
        let now = clock()
        let form = statsForm(request, s, nowMs: now)
        let operatorView = s.may(ConsoleAction.operate)
        let q = request.uri.queryParameters
        if q["format"].map(String.init) == "csv" {
            let rows = try await store.statistics(form.filter, by: statsDimension(form.by))
            return Self.statsCSV(rows, by: form.by, form: form)
        }
        let f = form.filter
        // Two reads (the range by day, the last 48 hours by hour), each by account, country, Type and channel;
        // everything else is summed here. Only the account narrows the reads, so the selects' choices come along.
        let scope = StatsFilter(fromMs: f.fromMs, toMs: f.toMs, account: operatorView ? nil : s.account)
        let cube = try await store.statisticsCells(scope, dayOffsetSeconds: HTML.offsetSeconds)
        let hourNow = (now / StatsSQL.hourMs) * StatsSQL.hourMs
        var recentScope = scope
        recentScope.fromMs = hourNow - 47 * StatsSQL.hourMs
        recentScope.toMs = hourNow + StatsSQL.hourMs
        let hourly = try await store.statisticsCells(recentScope, dayOffsetSeconds: nil)
        let errors = try await store.statisticsErrors(f, limit: 10)
        let matching = cube.filter { Self.matches($0, f) }
        let total = matching.reduce(StatsCounts()) { $0 + $1.counts }
        let byDay = Self.sum(matching) { String($0.period) }
        let byHour = Self.sum(hourly.filter { Self.matches($0, f) }) { String($0.period) }
        let byCountry = Self.sum(matching, \.country)
        let byChannel = Self.sum(matching, \.channel)
        let byType = Self.sum(matching, \.type)
        let byAccount = operatorView ? Self.sum(matching, \.account) : []
        let countries = Set(cube.map(\.country)).sorted()
        let channels = Set(cube.map(\.channel)).sorted()
        let accounts = Set(cube.map(\.account)).sorted()
        var recent = f
        recent.fromMs = recentScope.fromMs
        recent.toMs = recentScope.toMs

        // The figures first (on a phone the form would fill the first screen), then the filters, then the rest.
        var body: HTML = form.problems.map { "<p class=\"error\" role=\"alert\">\($0)</p>" as HTML }.joined()
        let whose: HTML =
            if let a = f.account { "account <strong>\(a)</strong>" } else { "<strong>all accounts</strong>" }
        body += """
            <p class="muted" id="stats-scope">Messages accepted from \(form.fromDay) to \(form.toDay) \
            (\(HTML.zoneName)), \(whose). Counted as they are accepted and as they become final, so these \
            are the numbers QueryMessage gives.</p>
            """
        body += Self.statsCards(total)
        body += statsFilterForm(form, s, countries: countries, channels: channels, accounts: accounts)
        var days: [(String, StatsCounts)] = []
        var dayStart = f.fromMs
        let found = Dictionary(uniqueKeysWithValues: byDay.map { ($0.key, $0.counts) })
        while dayStart < f.toMs {
            days.append((String(Self.dayLabel(dayStart).suffix(5)), found[String(dayStart)] ?? StatsCounts()))
            dayStart += 86_400_000
        }
        body += "<h2 id=\"by-day\">By day</h2>"
        body += Chart.statsBars(days, label: "messages by outcome per day")
        body += statsTable(byDay, by: "day", form: form)
        var hours: [(String, StatsCounts)] = []
        let foundHours = Dictionary(uniqueKeysWithValues: byHour.map { ($0.key, $0.counts) })
        var h = recent.fromMs
        while h < recent.toMs {
            let label = AlibabaDate.plain(ms: h, offsetSeconds: HTML.offsetSeconds)
            hours.append((String(label.dropFirst(5).prefix(8)) + "h", foundHours[String(h)] ?? StatsCounts()))
            h += StatsSQL.hourMs
        }
        body += "<h2 id=\"by-hour\">Last 48 hours, by hour</h2>"
        body += Chart.statsBars(hours, label: "messages by outcome per hour, last 48 hours")
        body += statsTable(Array(byHour.reversed()), by: "hour", form: form)
        body += "<h2 id=\"by-country\">By country</h2>" + statsTable(byCountry, by: "country", form: form)
        body += "<h2 id=\"by-channel\">By channel</h2>" + statsTable(byChannel, by: "channel", form: form)
        if operatorView {
            body += "<h2 id=\"by-account\">By account</h2>" + statsTable(byAccount, by: "account", form: form)
        }
        body += "<h2 id=\"by-type\">By Type</h2>" + statsTable(byType, by: "type", form: form)
        body += "<h2 id=\"errors\">Top error codes</h2>"
        body += HTML.table(
            ["Error code", "Messages"],
            errors.map { ["\($0.code)", "\($0.count)"] },
            empty: "No failed or expired message with an error code."
        )
        body += """
            <p class="muted">Median time to delivery, from acceptance to the delivery receipt, is the upper edge of \
            the bucket that holds the middle delivery; the buckets end at \
            \(StatsCounts.edgesSeconds.map(Self.duration).joined(separator: ", ")) and above.</p>
            """
        return Self.html(HTML.page(title: "Statistics", active: "/console/statistics", session: s, body: body))
    }

    static func matches(_ c: StatsCell, _ f: StatsFilter) -> Bool {
        (f.account == nil || c.account == f.account) && (f.country == nil || c.country == f.country)
            && (f.channel == nil || c.channel == f.channel) && (f.type == nil || c.type == f.type)
    }

    /// `cells` summed by `key`, in the order of the keys (periods by time).
    static func sum(_ cells: [StatsCell], _ key: (StatsCell) -> String) -> [StatsRow] {
        var sums: [String: StatsCounts] = [:]
        for c in cells { sums[key(c), default: StatsCounts()] = sums[key(c), default: StatsCounts()] + c.counts }
        return sums.sorted { a, b in
            if let x = Int64(a.key), let y = Int64(b.key) { return x < y }
            return a.key < b.key
        }.map { StatsRow(key: $0.key, counts: $0.value) }
    }

    static func dayLabel(_ ms: Int64) -> String {
        String(AlibabaDate.plain(ms: ms, offsetSeconds: HTML.offsetSeconds).prefix(10))
    }

    static func duration(_ seconds: Int64) -> String {
        switch seconds {
        case ..<60: "\(seconds) s"
        case ..<3600: "\(seconds / 60) min"
        default: "\(seconds / 3600) h"
        }
    }

    static func median(_ c: StatsCounts) -> String {
        guard let edge = c.medianDeliveryEdgeSeconds else { return "–" }
        if edge == Int64.max { return "> \(duration(StatsCounts.edgesSeconds.last!))" }
        return "≤ \(duration(edge))"
    }

    static func rate(_ c: StatsCounts) -> String {
        guard let r = c.deliveryRate else { return "–" }
        return String(format: "%.1f%%", r * 100)
    }

    static func statsCards(_ c: StatsCounts) -> HTML {
        let cards: [(String, String, String)] = [
            ("stat-submitted", "\(c.submitted)", "submitted"), ("stat-delivered", "\(c.delivered)", "delivered"),
            ("stat-failed", "\(c.failed)", "failed"), ("stat-expired", "\(c.expired)", "expired"),
            ("stat-waiting", "\(c.waiting)", "waiting (queued, sending, sent)"),
            ("stat-parts", "\(c.parts)", "parts"), ("stat-rate", rate(c), "delivery rate (of final messages)"),
            ("stat-median", median(c), "median time to delivery"),
        ]
        let html = cards.map {
            "<div class=\"card\"><div class=\"n\" id=\"\($0.0)\">\($0.1)</div><div class=\"l\">\($0.2)</div></div>"
                as HTML
        }
        return "<div class=\"cards\">\(html.joined())</div>"
    }

    /// How a key shows in the tables and the CSV.
    static func statsLabel(_ key: String, by: String) -> String {
        switch by {
        case "day": Int64(key).map(dayLabel) ?? key
        case "hour":
            Int64(key).map { String(AlibabaDate.plain(ms: $0, offsetSeconds: HTML.offsetSeconds).prefix(13)) + ":00" }
                ?? key
        case "country": CallingCode.label(key)
        case "channel": key.isEmpty ? "(not sent)" : key
        default: key
        }
    }

    static let statsHeaders = [
        "Submitted", "Delivered", "Failed", "Expired", "Waiting", "Parts", "Delivery rate", "Median to delivery",
    ]

    func statsTable(_ rows: [StatsRow], by: String, form: StatsForm) -> HTML {
        let title = by == "type" ? "Type" : by.prefix(1).uppercased() + by.dropFirst()
        let table = HTML.table(
            [title] + Self.statsHeaders,
            rows.map { r in
                let c = r.counts
                return [
                    "\(Self.statsLabel(r.key, by: by))", "\(c.submitted)", "\(c.delivered)", "\(c.failed)",
                    "\(c.expired)", "\(c.waiting)", "\(c.parts)", "\(Self.rate(c))", "\(Self.median(c))",
                ]
            },
            empty: "No message in this range."
        )
        let link = Self.statsLink(form, extra: [("by", by), ("format", "csv")])
        let what = by == "hour" ? "Download every hour of the range as CSV" : "Download this table as CSV"
        return "<div class=\"stats-table\" id=\"table-\(by)\">\(table)</div>"
            + "<p><a href=\"\(link)\" id=\"csv-\(by)\" download>\(what)</a></p>"
    }

    /// This page's address with the form's values and `extra`.
    static func statsLink(_ form: StatsForm, extra: [(String, String)]) -> String {
        let f = form.filter
        var pairs: [(String, String)] = [("from", form.fromDay), ("to", form.toDay)]
        if let a = f.account { pairs.append(("account", a)) }
        if let c = f.country { pairs.append(("country", c.isEmpty ? "unknown" : c)) }
        if let c = f.channel { pairs.append(("channel", c.isEmpty ? "(not sent)" : c)) }
        if let t = f.type { pairs.append(("type", t)) }
        return "/console/statistics?"
            + (pairs + extra).map { "\($0.0)=\(FormEncoding.percentEncode($0.1))" }.joined(separator: "&")
    }

    func statsFilterForm(
        _ form: StatsForm,
        _ s: ConsoleSessions.Session,
        countries: [String],
        channels: [String],
        accounts: [String]
    ) -> HTML {
        let f = form.filter
        func options(_ values: [(value: String, label: String)], selected: String?) -> HTML {
            let any: HTML = "<option value=\"\"\(HTML.when(selected == nil, " selected"))>all</option>"
            return any
                + values.map { v -> HTML in
                    "<option value=\"\(v.value)\"\(HTML.when(v.value == selected, " selected"))>\(v.label)</option>"
                }.joined()
        }
        var countryValues = countries.map { ($0.isEmpty ? "unknown" : $0, CallingCode.label($0)) }
        if let c = f.country, !countries.contains(c) {
            countryValues.append((c.isEmpty ? "unknown" : c, CallingCode.label(c)))
        }
        var channelValues = channels.map { ($0.isEmpty ? "(not sent)" : $0, $0.isEmpty ? "(not sent)" : $0) }
        if let c = f.channel, !channels.contains(c) { channelValues.append((c.isEmpty ? "(not sent)" : c, c)) }
        let selectedCountry = f.country.map { $0.isEmpty ? "unknown" : $0 }
        let selectedChannel = f.channel.map { $0.isEmpty ? "(not sent)" : $0 }
        var accountField: HTML = ""
        if s.may(ConsoleAction.operate) {
            var values = accounts.map { ($0, $0) }
            if let a = f.account, !accounts.contains(a) { values.append((a, a)) }
            accountField = """
                <label>Account <select name="account" id="stats-account">\
                \(options(values, selected: f.account))</select></label>
                """
        }
        let types = MessageType.allCases.map { ($0.rawValue, $0.rawValue) }
        return """
            <form method="get" action="/console/statistics" class="grid" id="stats-filter" aria-label="Filters">
            <label>From (\(HTML.zoneName)) <input type="date" name="from" id="stats-from" value="\(form.fromDay)"></label>
            <label>To (\(HTML.zoneName)) <input type="date" name="to" id="stats-to" value="\(form.toDay)"></label>
            \(accountField)\
            <label>Country <select name="country" id="stats-country">\
            \(options(countryValues, selected: selectedCountry))</select></label>
            <label>Channel <select name="channel" id="stats-channel">\
            \(options(channelValues, selected: selectedChannel))</select></label>
            <label>Type <select name="type" id="stats-type">\(options(types, selected: f.type))</select></label>
            <button type="submit" id="stats-apply">Show</button>
            </form>
            """
    }

    /// One table as CSV: a header line, then a line per key; cells a spreadsheet would run as a formula are
    /// quoted with a leading apostrophe.
    static func statsCSV(_ rows: [StatsRow], by: String, form: StatsForm) -> Response {
        var keyHeaders: [String] =
            switch by {
            case "day": ["day"]
            case "hour": ["hour"]
            case "country": ["calling_code", "country"]
            default: [by]
            }
        keyHeaders += [
            "submitted", "delivered", "failed", "expired", "waiting", "parts", "delivery_rate",
            "median_delivery_seconds_at_most",
        ]
        var out = keyHeaders.map(csvCell).joined(separator: ",") + "\r\n"
        for r in rows {
            let c = r.counts
            var cells: [String] =
                switch by {
                case "country": [r.key, r.key.isEmpty ? "unknown" : CallingCode.name(r.key)]
                default: [statsLabel(r.key, by: by)]
                }
            let median = c.medianDeliveryEdgeSeconds.map { $0 == Int64.max ? "more than 3600" : String($0) } ?? ""
            cells += [
                String(c.submitted), String(c.delivered), String(c.failed), String(c.expired), String(c.waiting),
                String(c.parts), c.deliveryRate.map { String(format: "%.4f", $0) } ?? "", median,
            ]
            out += cells.map(csvCell).joined(separator: ",") + "\r\n"
        }
        var response = text(out, type: "text/csv; charset=utf-8")
        let name = "petrel-statistics-by-\(by)-\(form.fromDay)-to-\(form.toDay).csv"
        response.headers[.contentDisposition] = "attachment; filename=\"\(name)\""
        return response
    }

    static func csvCell(_ value: String) -> String {
        var v = value
        if let first = v.first, "=+-@\t\r".contains(first) { v = "'" + v }
        guard v.contains(where: { ",\"\r\n".contains($0) }) else { return v }
        return "\"" + v.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
