import Foundation
import HTTPTypes
import Hummingbird
import PetrelAPI
import PetrelCore
import PetrelDelivery
import PetrelStore

/// Mass messaging: a CSV of numbers (and variable columns) and a text with `${column}` placeholders, previewed
/// row by row before anything is sent, then sent in the background by CampaignRunner.
extension Console {
    func registerCampaigns(_ router: Router<PetrelRequestContext>) {
        get("/console/campaigns", router, needs: ConsoleAction.campaigns) { _, s in
            try await self.campaignList(s, error: nil)
        }
        post("/console/campaigns", router, needs: ConsoleAction.campaigns) { _, s, form in
            let csv = form.files["csv"].map { String(decoding: $0.data, as: UTF8.self) } ?? form["csv_text"] ?? ""
            switch await self.create(s, csv: csv, form.fields) {
            case .success(let c): return Self.redirect("/console/campaigns/\(c.id)")
            case .failure(let e): return try await self.campaignList(s, error: e.message)
            }
        }
        get("/console/campaigns/{id}", router, needs: ConsoleAction.campaigns) { request, s in
            guard let c = try await self.campaign(request, s) else { return self.missingCampaign(s) }
            let body: HTML = """
                \(await self.renderedRows(c))
                <div data-refresh="/console/fragment/campaigns/\(c.id)" id="campaign">\(
                    self.campaignDetail(c, try await self.outcome(c, s), s))</div>
                """
            return Self.html(
                HTML.page(title: "Campaign \(c.id): \(c.name)", active: "/console/campaigns", session: s, body: body)
            )
        }
        get("/console/fragment/campaigns/{id}", router, needs: ConsoleAction.campaigns) { request, s in
            guard let c = try await self.campaign(request, s) else {
                return Self.text("not found\n", status: .notFound)
            }
            return Self.html(self.campaignDetail(c, try await self.outcome(c, s), s))
        }
        get("/console/campaigns/{id}/invalid.csv", router, needs: ConsoleAction.campaigns) { request, s in
            guard let c = try await self.campaign(request, s) else { return self.missingCampaign(s) }
            let report = try await self.store.campaignInvalidReport(id: c.id, account: s.account) ?? ""
            // A CSV to fix and upload again; campaigns stored before it kept one line per row.
            let csv = !report.isEmpty && !report.hasPrefix("line ")
            var r = Self.text(
                report.isEmpty ? "" : report + "\n",
                type: csv ? "text/csv; charset=utf-8" : "text/plain; charset=utf-8"
            )
            let name = "campaign-\(c.id)-invalid-rows.\(csv ? "csv" : "txt")"
            r.headers[.contentDisposition] = "attachment; filename=\"\(name)\""
            return r
        }
        for action in ["start", "pause", "resume", "cancel"] {
            post(RouterPath("/console/campaigns/{id}/\(action)"), router, needs: ConsoleAction.campaigns) {
                request,
                s,
                _ in
                let (c, problem) = try await self.act(action, request, s)
                return c == nil
                    ? self.missingCampaign(s)
                    : problem == nil
                        ? Self.redirect("/console/campaigns/\(c!.id)")
                        : try await self.campaignList(s, error: problem)
            }
            post(RouterPath("/console/api/campaigns/{id}/\(action)"), router, needs: ConsoleAction.campaigns) {
                request,
                s,
                _ in
                let (c, problem) = try await self.act(action, request, s)
                guard let c else {
                    return Self.jsonError("NotFound", "No such campaign in this account.", status: .notFound)
                }
                if let problem { return Self.jsonError("InvalidState", problem, status: .conflict) }
                return Self.json(Self.campaignJSON(c))
            }
        }
        // For `petrel campaign send`: the CSV is the body, the settings are in the query.
        post("/console/api/campaigns", router, needs: ConsoleAction.campaigns) { request, s, form in
            var settings: [String: String] = [:]
            for (k, v) in request.uri.queryParameters { settings[String(k)] = String(v) }
            let csv = form.files["body"].map { String(decoding: $0.data, as: UTF8.self) } ?? ""
            switch await self.create(s, csv: csv, settings) {
            case .success(let c): return Self.json(Self.campaignJSON(c))
            case .failure(let e): return Self.jsonError("InvalidCampaign", e.message, status: .badRequest)
            }
        }
        get("/console/api/campaigns/{id}", router, needs: ConsoleAction.campaigns) { request, s in
            guard let c = try await self.campaign(request, s) else {
                return Self.jsonError("NotFound", "No such campaign in this account.", status: .notFound)
            }
            return Self.json(Self.campaignJSON(c, try await self.outcome(c, s)))
        }
    }

    struct Problem: Error {
        let message: String
    }

    /// Checks the settings and every row, and stores the campaign as a draft (nothing is sent before start).
    func create(
        _ s: ConsoleSessions.Session,
        csv: String,
        _ f: [String: String]
    ) async -> Result<CampaignRecord, Problem> {
        func value(_ k: String) -> String { (f[k] ?? "").trimmingCharacters(in: CharacterSet(charactersIn: " ")) }
        let text = f["text"] ?? ""
        guard let type = MessageType(parameter: value("type").isEmpty ? "MKT" : value("type")), type != .otp else {
            return .failure(Problem(message: "Type must be NOTIFY or MKT."))
        }
        let from = value("from")
        guard from.isEmpty || SenderID.isValid(from) else {
            return .failure(
                Problem(
                    message: """
                        The sender ID must be letters and digits only: at most 11 characters with a letter, 15 if only digits.
                        """
                )
            )
        }
        var validity: Int64?
        if !value("validity").isEmpty {
            guard let v = Int64(value("validity")), v > 0, v <= 31_536_000 else {
                let why = "ValidityPeriod must be a whole number of seconds between 1 and 31536000."
                return .failure(Problem(message: why))
            }
            validity = v
        }
        var startAt: Int64?
        if !value("start").isEmpty {
            guard let t = Self.parseTime(value("start")) else {
                return .failure(Problem(message: "The start time must look like 2026-11-26T08:00 (\(HTML.zoneName))."))
            }
            startAt = t
        }
        let taskId = value("task_id")
        guard taskId.count <= 255 else { return .failure(Problem(message: "TaskId must be at most 255 characters.")) }
        let limits = gateway.sendLimits(account: s.account)
        var plan: CampaignPlan
        do {
            plan = try CampaignPlan.build(
                csv: csv,
                text: text,
                maxTextLength: gateway.maxTextLength,
                countries: limits?.countries
            )
        } catch {
            return .failure(Problem(message: error.description))
        }
        plan.refuseOptedOut(account: s.account, type: type, board: gateway.optOut)
        if let limits {
            // The limits as the campaign would find them at its start (now, when it has none or it has passed),
            // from what the store has counted so far.
            let at = max(startAt ?? 0, clock())
            let numbers = plan.valid.lazy.map(\.to).filter { limits.perNumber.counts(to: $0, type: type) }
            do {
                var used: [CapKey: Int] = [:]
                if !limits.caps.isEmpty {
                    let counters = try await store.capCounters(account: s.account, nowMs: at)
                    used = Dictionary(counters.map { ($0.key, $0.parts) }) { a, b in max(a, b) }
                }
                let recent =
                    numbers.isEmpty
                    ? [:]
                    : try await store.countedSends(
                        account: s.account,
                        recipients: Array(numbers),
                        sinceMs: at - NumberLimits.horizonMs
                    )
                plan.applyLimits(limits, type: type, atMs: at, used: used, recent: recent)
            } catch {
                return .failure(Problem(message: "The account's counted sends could not be read; try again."))
            }
        }
        // What the campaign will store as messages, filled in: bounded per campaign and per account.
        guard plan.renderedBytes <= campaignMaxBytes else {
            return .failure(
                Problem(
                    message: """
                        The messages of this campaign come to \(plan.renderedBytes) bytes once filled in; a campaign may \
                        have at most \(campaignMaxBytes) (console.maxCampaignBytes). Split the CSV or shorten the text.
                        """
                )
            )
        }
        let pending: Int
        do {
            pending = try await store.campaigns(account: s.account)
                .filter { [.draft, .running, .paused].contains($0.status) }.reduce(0) { $0 + $1.renderedBytes }
        } catch {
            return .failure(Problem(message: "The account's campaigns could not be read; try again."))
        }
        guard pending + plan.renderedBytes <= campaignMaxBytesPerAccount else {
            return .failure(
                Problem(
                    message: """
                        This account's unfinished campaigns already come to \(pending) bytes of messages; with this one it \
                        would be \(pending + plan.renderedBytes), over the \(campaignMaxBytesPerAccount) allowed \
                        (console.maxCampaignBytesPerAccount). Let them finish, or cancel a draft.
                        """
                )
            )
        }
        let now = clock()
        var record = CampaignRecord(
            account: s.account,
            name: value("name").isEmpty ? "Campaign of \(HTML.time(now))" : value("name"),
            text: text,
            type: type,
            from: from,
            validitySeconds: validity,
            taskId: taskId,
            startAtMs: startAt,
            totalRows: plan.totalRows,
            validRows: plan.valid.count,
            invalidRows: plan.invalid.count,
            parts: plan.parts,
            invalidReport: plan.invalid.map(\.reportLine).joined(separator: "\n"),
            segmentsSummary: plan.segmentsHistogram.sorted { $0.key < $1.key }
                .map { "\($0.key) part\($0.key == 1 ? "" : "s"): \($0.value)" }.joined(separator: " · "),
            columns: plan.columns,
            renderedBytes: plan.renderedBytes,
            createdAtMs: now,
            updatedAtMs: now
        )
        record.invalidCSV = plan.invalidCSV
        do {
            let rows = plan.valid.map { CampaignRow(to: $0.to, body: CSV.line($0.fields)) }
            let id = try await store.createCampaign(record, rows: rows)
            var stored = record
            stored.id = id
            stored.invalidCSV = ""
            stored.invalidReport = CampaignRecord.preview(of: record.invalidReport)
            return .success(stored)
        } catch {
            return .failure(Problem(message: "The campaign could not be stored: \(StoreErrorText.sentence(error))."))
        }
    }

    func act(
        _ action: String,
        _ request: Request,
        _ s: ConsoleSessions.Session
    ) async throws -> (CampaignRecord?, String?) {
        guard let c = try await campaign(request, s) else { return (nil, nil) }
        let moves: [String: (CampaignStatus, Set<CampaignStatus>)] = [
            "start": (.running, [.draft]), "pause": (.paused, [.running]), "resume": (.running, [.paused]),
            "cancel": (.cancelled, [.draft, .running, .paused]),
        ]
        guard let (to, from) = moves[action] else { return (c, "unknown action") }
        if to == .running, let policy = await policy(s),
            (try? Policy.parse(policy))?.evaluate(action: "dysms:\(BatchSendMessageToGlobe.name)", account: s.account)
                != .allow
        {
            return (c, "This access key's policy does not allow dysms:BatchSendMessageToGlobe.")
        }
        guard try await store.setCampaignStatus(id: c.id, account: s.account, to: to, from: from, nowMs: clock()) else {
            return (c, "Campaign \(c.id) is \(c.status.rawValue); it cannot \(action) now.")
        }
        if to == .running { campaignWake.signal() }
        return (try await store.campaign(id: c.id, account: s.account) ?? c, nil)
    }

    func campaign(_ request: Request, _ s: ConsoleSessions.Session) async throws -> CampaignRecord? {
        guard let id = Int64(Self.pathComponent(request, after: "campaigns")) else { return nil }
        return try await store.campaign(id: id, account: s.account)
    }

    func missingCampaign(_ s: ConsoleSessions.Session) -> Response {
        let page = HTML.page(
            title: "Campaign not found",
            active: "/console/campaigns",
            session: s,
            body: "<p>No such campaign in this account.</p>"
        )
        return Self.html(page, status: .notFound)
    }

    func campaignList(_ s: ConsoleSessions.Session, error: String?) async throws -> Response {
        let all = try await store.campaigns(account: s.account)
        let outcomes = try await store.campaignOutcomes(ids: all.map(\.id), account: s.account)
        var body = error.map { "<p class=\"error\" id=\"campaign-error\">\($0)</p>" as HTML } ?? ""
        body += HTML.table(
            [
                "Id", "Name", "Status", "Progress", "Valid rows", "Invalid rows", "Parts", "Accepted", "Delivered",
                "Failed", "Expired", "Waiting", "Delivery rate", "Created",
            ],
            all.map { c in
                let o = Self.counted(c, outcomes[c.id])
                return [
                    "\(c.id)", "<a href=\"/console/campaigns/\(c.id)\">\(c.name)</a>", "\(statusText(c))",
                    """
                    <progress max="\(max(c.validRows, 1))" value="\(c.cursor)"></progress> \(c.cursor)/\(c.validRows)
                    """,
                    "\(c.validRows)", "\(c.invalidRows)", "\(c.parts)", "\(c.accepted)",
                ] + Self.outcomeCells(c, o).map { "\($0)" as HTML } + ["\(HTML.time(c.createdAtMs))"]
            },
            empty: "No campaigns yet."
        )
        body += """
            <h2>New campaign</h2>
            <form method="post" action="/console/campaigns" enctype="multipart/form-data" class="grid" \
            id="campaign-form">\(HTML.csrfField(s))
            <label>Name <input name="name" id="campaign-name"></label>
            <label>CSV file (a number column, then any variables) \
            <input type="file" name="csv" id="campaign-csv" accept=".csv,text/csv" required></label>
            <label>Type <select name="type"><option>MKT</option><option>NOTIFY</option></select></label>
            <label>Sender ID <input name="from" placeholder="Petrel"></label>
            <label>ValidityPeriod (seconds) <input name="validity" inputmode="numeric"></label>
            <label>Start at (\(HTML.zoneName), optional) <input type="datetime-local" name="start"></label>
            <label class="wide">Text, with ${column} placeholders \
            <textarea name="text" id="campaign-text" required data-counter="campaign-count" \
            aria-describedby="campaign-count" placeholder="Hi ${name}, your code is ${code}"></textarea></label>
            <p class="wide muted"><output id="campaign-count" aria-live="polite"></output> \
            (placeholders counted as written; the preview fills them in row by row)</p>
            <button type="submit" id="campaign-preview">Preview</button>
            </form>
            <p class="muted">The preview checks every row; nothing is sent until you start the campaign.
            From a shell: <code>petrel campaign send --csv FILE --text '…'</code>.</p>
            """
        return Self.html(HTML.page(title: "Campaigns", active: "/console/campaigns", session: s, body: body))
    }

    /// The first rows of a campaign as they will be sent: each filled in, with its encoding, length and parts.
    func renderedRows(_ c: CampaignRecord, count: Int = 5) async -> HTML {
        guard c.validRows > 0, let template = try? CampaignTemplate(c.text, columns: c.columns ?? []),
            let rows = try? await store.campaignRows(id: c.id, from: 0, limit: count), !rows.isEmpty
        else { return "" }
        let cells = rows.map { row -> [HTML] in
            let text = template.render(CSV.parse(row.body).first?.fields ?? [])
            let sms = SMSText(text)
            return [
                "\(row.to)", "<span class=\"rendered\">\(text)</span>",
                "\(sms.encoding == .gsm7 ? "GSM-7" : "UCS-2")", "\(sms.units)", "\(sms.segments)",
            ]
        }
        let title = rows.count < c.validRows ? "The first \(rows.count) messages" : "The messages"
        return """
            <section id="rendered-rows" aria-labelledby="rendered-title"><h2 id="rendered-title">\(title) as they \
            will be sent</h2>\(HTML.table(["To", "Text", "Encoding", "Characters", "Parts"], cells))</section>
            """
    }

    /// A started campaign whose start time is still ahead waits for it: it says so rather than "running".
    func statusText(_ c: CampaignRecord) -> String {
        if c.status == .running, let at = c.startAtMs, at > clock() { return "scheduled for \(HTML.time(at))" }
        return c.status.rawValue
    }

    /// What became of the campaign's accepted messages so far; nil: not counted (sent before the counters existed).
    func outcome(_ c: CampaignRecord, _ s: ConsoleSessions.Session) async throws -> CampaignOutcome? {
        Self.counted(c, try await store.campaignOutcomes(ids: [c.id], account: s.account)[c.id])
    }

    /// A campaign with accepted messages but no counters was sent before they existed: nil, shown as "–".
    static func counted(_ c: CampaignRecord, _ o: CampaignOutcome?) -> CampaignOutcome? {
        o ?? (c.accepted == 0 ? CampaignOutcome() : nil)
    }

    /// Delivered, failed, expired, waiting and the delivery rate, as the pages show them.
    static func outcomeCells(_ c: CampaignRecord, _ o: CampaignOutcome?) -> [String] {
        guard let o else { return Array(repeating: "–", count: 5) }
        return ["\(o.delivered)", "\(o.failed)", "\(o.expired)", "\(waiting(c, o))", rate(o)]
    }

    /// Accepted and not final yet (queued, being submitted, or sent and waiting for a receipt).
    static func waiting(_ c: CampaignRecord, _ o: CampaignOutcome) -> Int { max(0, c.accepted - o.final) }

    /// Delivered of the final ones, as on the Statistics page.
    static func rate(_ o: CampaignOutcome) -> String {
        o.final == 0 ? "–" : String(format: "%.1f%%", Double(o.delivered) / Double(o.final) * 100)
    }

    func campaignDetail(_ c: CampaignRecord, _ o: CampaignOutcome?, _ s: ConsoleSessions.Session) -> HTML {
        let outcome = Self.outcomeCells(c, o)
        let taskId = c.taskId.isEmpty ? "campaign-\(c.id)" : c.taskId
        let rows: [(String, String)] = [
            ("Status", statusText(c)), ("Type", c.type.rawValue),
            ("Sender ID", c.from.isEmpty ? "(default)" : c.from),
            ("TaskId", taskId), ("ValidityPeriod", c.validitySeconds.map { "\($0) s" } ?? "default"),
            ("Start", c.startAtMs.map { HTML.time($0) } ?? "when started"),
            ("Rows in the file", "\(c.totalRows)"), ("Valid rows", "\(c.validRows)"),
            ("Invalid rows", "\(c.invalidRows)"),
            ("Parts (segments) to send", "\(c.parts)"),
            ("Parts per message", c.segmentsSummary.isEmpty ? "–" : c.segmentsSummary),
            ("Handed to the send path", "\(c.cursor) of \(c.validRows)"), ("Accepted", "\(c.accepted)"),
            ("Refused", "\(c.failed)"), ("Delivered", outcome[0]), ("Failed", outcome[1]), ("Expired", outcome[2]),
            ("Waiting (queued or sent)", outcome[3]), ("Delivery rate", outcome[4]),
        ]
        let figures = rows.map { "<tr><th>\($0.0)</th><td data-field=\"\($0.0)\">\($0.1)</td></tr>" as HTML }
        var out: HTML = "<div class=\"scroll\"><table id=\"campaign-figures\">\(figures.joined())</table></div>"
        out += """
            <p><progress max="\(max(c.validRows, 1))" value="\(c.cursor)"></progress> \
            <span id="campaign-status">\(statusText(c))</span></p>
            """
        out += "<h2>Text</h2><div class=\"bubble\">\(c.text)</div>"
        var actions: [(String, String)] = []
        switch c.status {
        case .draft: actions = [("start", c.startAtMs == nil ? "Send now" : "Schedule"), ("cancel", "Discard")]
        case .running: actions = [("pause", "Pause"), ("cancel", "Cancel")]
        case .paused: actions = [("resume", "Resume"), ("cancel", "Cancel")]
        case .cancelled, .done: actions = []
        }
        let forms = actions.map { a -> HTML in
            let cancel = a.0 == "cancel"
            return """
                <form method="post" action="/console/campaigns/\(c.id)/\(a.0)" class="inline"\
                \(HTML.when(cancel, " data-confirm=\"Cancel this campaign?\""))>\(HTML.csrfField(s))\
                <button type="submit" id="campaign-\(a.0)"\(HTML.when(cancel, " class=\"secondary\""))>\
                \(a.1)</button></form>
                """
        }
        out += "<p>\(forms.joined(separator: " "))</p>"
        if c.status == .running || c.status == .done {
            out += "<p><a href=\"/console/messages?task_id=\(taskId)\">Messages of this campaign</a></p>"
        }
        if c.invalidRows > 0 {
            let lines = c.invalidReport.split(separator: "\n").prefix(CampaignRecord.previewLines)
            let items = lines.map { "<li>\($0)</li>" as HTML }
            out += "<h2>Invalid rows (\(c.invalidRows))</h2><ul id=\"invalid-rows\">\(items.joined())</ul>"
            out += """
                <p><a href="/console/campaigns/\(c.id)/invalid.csv" id="invalid-download">\
                Download the invalid rows as a CSV</a> (their values as uploaded and an <code>error</code> column): \
                fix them and upload it again.</p>
                """
        }
        return out
    }

    static func campaignJSON(_ c: CampaignRecord, _ o: CampaignOutcome? = nil) -> String {
        var fields: [(String, ResponseValue)] = [
            ("Id", .string("\(c.id)")), ("Name", .string(c.name)), ("Status", .string(c.status.rawValue)),
            ("TotalRows", .string("\(c.totalRows)")), ("ValidRows", .string("\(c.validRows)")),
            ("InvalidRows", .string("\(c.invalidRows)")), ("Parts", .string("\(c.parts)")),
            ("PartsPerMessage", .string(c.segmentsSummary)), ("Cursor", .string("\(c.cursor)")),
            ("Accepted", .string("\(c.accepted)")), ("Refused", .string("\(c.failed)")),
            ("TaskId", .string(c.taskId.isEmpty ? "campaign-\(c.id)" : c.taskId)),
            ("InvalidReport", .string(c.invalidReport)),
        ]
        if let o {
            fields += [
                ("Delivered", .string("\(o.delivered)")), ("Failed", .string("\(o.failed)")),
                ("Expired", .string("\(o.expired)")), ("Waiting", .string("\(waiting(c, o))")),
            ]
        }
        return String(decoding: ResponseEncoder.encode(fields, root: "", format: .json), as: UTF8.self)
    }
}
