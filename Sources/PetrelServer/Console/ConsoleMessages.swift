import Foundation
import Hummingbird
import PetrelAPI
import PetrelCore
import PetrelStore

/// The message search and a message's page: its fields, its parts as sent, its timeline and why it waits.
extension Console {
    func messages(_ request: Request, _ s: ConsoleSessions.Session) async throws -> Response {
        let q = request.uri.queryParameters
        func value(_ k: String) -> String {
            q[Substring(k)].map { String($0).trimmingCharacters(in: CharacterSet(charactersIn: " ")) } ?? ""
        }
        var query = MessageQuery(account: s.account)
        var problems: [String] = []
        if !value("to").isEmpty {
            // Part of a number, written as people write numbers: "9123", "+852 9123-45".
            query.toContains = Self.number(value("to"))
            if query.toContains.isEmpty { problems.append("Number must be digits (spaces, dashes and + are fine).") }
        }
        query.textContains = String(value("text").prefix(100))
        query.taskId = value("task_id")
        func id(_ name: String, _ label: String) -> Int64? {
            guard !value(name).isEmpty else { return nil }
            if let id = Int64(value(name)) { return id }
            problems.append("\(label) must be a number.")
            return nil
        }
        query.messageId = id("message_id", "MessageId")
        query.beforeId = id("before", "The page key (before)")
        query.afterId = id("after", "The page key (after)")
        if !value("status").isEmpty { query.status = MessageStatus.allCases.first { $0.name == value("status") } }
        if !value("since").isEmpty {
            if let t = Self.parseTime(value("since")) {
                query.sinceMs = t
            } else {
                problems.append("From must be a time like 2026-11-26T08:00.")
            }
        }
        if !value("until").isEmpty {
            if let t = Self.parseTime(value("until")) {
                query.untilMs = t
            } else {
                problems.append("Until must be a time like 2026-11-26T09:00.")
            }
        }
        query.limit = Self.messagesPage
        query.scanLimit = Self.messagesScan
        let found = problems.isEmpty ? try await store.searchMessages(query) : []
        let statusOptions = ([""] + MessageStatus.allCases.map(\.name)).map { name -> HTML in
            let selected = HTML.when(name == value("status"), " selected")
            return "<option value=\"\(name)\"\(selected)>\(name.isEmpty ? "any" : name)</option>"
        }
        var body: HTML = """
            <form method="get" action="/console/messages" class="grid" role="search">
            <label>Number or part of it <input type="search" data-search name="to" value="\(value("to"))" \
            placeholder="9123" aria-keyshortcuts="/"></label>
            <label>Text contains <input type="search" name="text" value="\(value("text"))"></label>
            <label>TaskId <input name="task_id" value="\(value("task_id"))"></label>
            <label>MessageId <input name="message_id" value="\(value("message_id"))"></label>
            <label>Status <select name="status">\(statusOptions.joined())</select></label>
            <label>From (\(HTML.zoneName)) <input type="datetime-local" name="since" value="\(value("since"))"></label>
            <label>Until (\(HTML.zoneName)) <input type="datetime-local" name="until" value="\(value("until"))"></label>
            <button type="submit">Search</button>
            </form>
            """
        body += problems.map { "<p class=\"error\" role=\"alert\">\($0)</p>" as HTML }.joined()
        var count: HTML = "\(found.count) message(s) on this page."
        if query.isPatternSearch {
            count += " A number or text search reads at most the newest \(Self.messagesScan) messages past this page"
            count += " (or before Until): set From and Until to search further back."
        }
        body += "<p class=\"muted\" id=\"message-count\">\(count)</p>"
        body += Self.messageTable(found)
        body += Self.pageLinks(found, query: query, keep: value)
        return Self.html(HTML.page(title: "Messages", active: "/console/messages", session: s, body: body))
    }

    /// Rows a messages page shows; the pattern searches' scan bound (`MessageQuery.scanLimit`).
    static let messagesPage = 50
    static let messagesScan = 25_000

    /// "Newer" and "Older" links: keyset pages by id, the search's other fields kept.
    static func pageLinks(_ found: [Message], query: MessageQuery, keep value: (String) -> String) -> HTML {
        let kept = ["to", "text", "task_id", "message_id", "status", "since", "until"].compactMap { k -> String? in
            value(k).isEmpty ? nil : "\(k)=\(FormEncoding.percentEncode(value(k)))"
        }
        func link(_ key: String, _ id: Int64) -> String {
            "/console/messages?" + (kept + ["\(key)=\(id)"]).joined(separator: "&")
        }
        var links: [HTML] = []
        // A newer page exists when this one was reached by a key; an empty page keys on where it was asked from.
        let keyed = query.beforeId != nil || query.afterId != nil
        if keyed, let newest = found.first?.id ?? query.beforeId.map({ $0 - 1 }) {
            links.append("<a href=\"\(link("after", newest))\" rel=\"prev\" id=\"newer\">Newer</a>")
        }
        // A full page may have more below it (older; for a pattern search, past the scan).
        if found.count == query.limit || (query.afterId != nil && query.beforeId == nil), let oldest = found.last?.id {
            links.append("<a href=\"\(link("before", oldest))\" rel=\"next\" id=\"older\">Older</a>")
        }
        guard !links.isEmpty else { return "" }
        return "<nav class=\"pager\" aria-label=\"Pages\">\(links.joined(separator: " "))</nav>"
    }

    static func messageTable(_ found: [Message]) -> HTML {
        HTML.table(
            ["MessageId", "To", "Status", "Type", "TaskId", "Parts", "Accepted", "Text"],
            found.map { m in
                [
                    "<a href=\"/console/messages/\(m.id)\">\(m.id)</a>", "\(m.to)", status(m.status),
                    "\(m.type.rawValue)", "\(m.taskId)", "\(m.segments)", "\(HTML.time(m.createdAtMs))",
                    "\(m.text.prefix(60))",
                ]
            },
            empty: "No message matches."
        )
    }

    func message(_ request: Request, _ s: ConsoleSessions.Session) async throws -> Response {
        let idText = Self.pathComponent(request, after: "messages")
        // Another account's message answers exactly like a missing one.
        guard let id = Int64(idText), let timeline = try await store.history(messageId: id, account: s.account) else {
            let page = HTML.page(
                title: "Message not found",
                active: "/console/messages",
                session: s,
                body: "<p>No message \(idText) in this account.</p>"
            )
            return Self.html(page, status: .notFound)
        }
        let m = timeline.message
        let parts = try await store.parts(messageId: id)
        var body: HTML = "<div class=\"scroll\"><table>\(Self.fields(of: m))</table></div>"
        if let waiting = waitingLine(timeline) { body += "<p id=\"waiting\"><strong>Waiting:</strong> \(waiting)</p>" }
        body += "<h2>Text</h2><div class=\"bubble\" id=\"message-text\">\(m.text)</div>"
        let sms = SMSText(m.text)
        body +=
            "<h2>Parts as sent</h2>"
            + HTML.table(
                ["Part", "Text", "Channel", "Carrier id", "Receipt", "Sent", "Receipt at"],
                sms.parts.enumerated().map { i, text in
                    let p = parts.first { $0.part == i + 1 }
                    let receipt =
                        p.map { Self.status($0.status) + ($0.errorCode.isEmpty ? "" : " \($0.errorCode)") } ?? ""
                    return [
                        "\(i + 1)/\(sms.segments)", "\(text)", "\(p?.channel ?? "")", "\(p?.carrierId ?? "")", receipt,
                        "\(HTML.time(p?.sentAtMs))", "\(HTML.time(p?.doneAtMs))",
                    ]
                }
            )
        body += "<h2>Timeline</h2>" + Self.timelineTable(timeline.entries)
        return Self.html(HTML.page(title: "Message \(m.id)", active: "/console/messages", session: s, body: body))
    }

    /// Every step of a message, oldest first.
    static func timelineTable(_ entries: [TimelineEntry]) -> HTML {
        HTML.table(
            ["At", "Event", "Detail", "Until"],
            entries.map { e in
                ["\(HTML.time(e.atMs))", "\(e.kind.rawValue)", "\(e.detail)", "\(HTML.time(e.untilMs))"]
            },
            empty: "No history."
        )
    }

    /// Why a message that is not final waits: the store's reason, and for a due queued message what this
    /// process's dispatcher sees now (no channel bound, a window full, a throttle).
    func waitingLine(_ timeline: MessageTimeline) -> String? {
        let now = clock()
        guard let stored = timeline.storeWaitReason(nowMs: now) else { return nil }
        let sentence = stored.sentence { HTML.time($0) }
        guard let live = waitReason(timeline.message, now) else { return sentence }
        return "\(sentence): \(live)"
    }

    /// A message's fields as table rows.
    static func fields(of m: Message) -> HTML {
        let route =
            m.channel.isEmpty
            ? (m.requestedChannel.isEmpty ? "not routed yet" : "requested \(m.requestedChannel)") : m.channel
        let carrierId =
            m.carrierMessageId.isEmpty && m.channel == "sandbox"
            ? "none (the sandbox has no carrier ids)" : m.carrierMessageId
        let fields: [(String, String)] = [
            ("MessageId", "\(m.id)"), ("To", m.to), ("From", m.from.isEmpty ? "(default)" : m.from),
            ("Type", m.type.rawValue), ("TaskId", m.taskId), ("Status", m.status.name),
            ("Error", m.errorCode.isEmpty ? "" : "\(m.errorCode) \(m.errorDescription)"),
            ("Encoding", m.encoding == .gsm7 ? "GSM 03.38 (7-bit)" : "UCS-2"), ("Parts", "\(m.segments)"),
            ("Route", route), ("Carrier id", carrierId), ("Accepted", HTML.time(m.createdAtMs)),
            ("Sent", HTML.time(m.sentAtMs)), ("Finished", HTML.time(m.doneAtMs)),
            ("Valid until", HTML.time(m.expiresAtMs)),
        ]
        return fields.map { "<tr><th>\($0.0)</th><td>\($0.1)</td></tr>" as HTML }.joined()
    }
}
