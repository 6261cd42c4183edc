import Foundation
import PetrelCore

/// Server-rendered HTML: escaping, the page frame, and small formatting helpers.
enum HTML {
    static func escape(_ s: some StringProtocol) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// The navigation; a section shows only to keys whose policy allows one of its actions.
    static let sections: [(path: String, title: String, needs: [String])] = [
        ("/console", "Overview", []), ("/console/messages", "Messages", [ConsoleAction.query]),
        ("/console/inbox", "Sandbox inbox", [ConsoleAction.query]), ("/console/campaigns", "Campaigns", [ConsoleAction.campaigns]),
        ("/console/channels", "Channels", [ConsoleAction.channels]), ("/console/receipts", "Receipts", [ConsoleAction.receipts]),
        ("/console/keys", "Keys & templates", [ConsoleAction.keys, ConsoleAction.templates]),
    ]

    /// A whole page: navigation, the account, sign-out (a form with the CSRF token) and `body`.
    static func page(title: String, active: String, session: ConsoleSessions.Session?, body: String) -> String {
        var nav = ""
        if let session {
            nav = "<nav>" + sections.filter { $0.needs.isEmpty || $0.needs.contains(where: session.may) }.map { s in
                "<a href=\"\(s.path)\"\(s.path == active ? " class=\"active\"" : "")>\(escape(s.title))</a>"
            }.joined() + """
                <form method="post" action="/console/logout" class="signout">\(csrfField(session))\
                <span class="account">\(escape(session.account))</span> <button type="submit">Sign out</button></form></nav>
                """
        }
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(title)) · Petrel</title>
            <link rel="stylesheet" href="/console/static/console.css">
            <script src="/console/static/console.js" defer></script>
            </head><body>
            <header><a class="brand" href="/console">Petrel</a>\(nav)</header>
            <main><h1>\(escape(title))</h1>
            \(body)
            </main></body></html>
            """
    }

    static func csrfField(_ session: ConsoleSessions.Session) -> String {
        "<input type=\"hidden\" name=\"csrf\" value=\"\(escape(session.csrf))\">"
    }

    /// `2026-11-26 06:42:47` in UTC.
    static func time(_ ms: Int64?) -> String {
        guard let ms else { return "" }
        let iso = AlibabaDate.iso8601(seconds: ms / 1000)   // 2026-11-26T06:42:47Z
        return String(iso.replacingOccurrences(of: "T", with: " ").dropLast())
    }

    static func statusName(_ s: MessageStatus) -> String {
        switch s {
        case .queued: "queued"
        case .submitting: "submitting"
        case .sent: "sent"
        case .delivered: "delivered"
        case .failed: "failed"
        case .expired: "expired"
        }
    }

    static func table(_ headers: [String], _ rows: [[String]], empty: String = "Nothing yet.") -> String {
        guard !rows.isEmpty else { return "<p class=\"empty\">\(escape(empty))</p>" }
        let head = headers.map { "<th>\(escape($0))</th>" }.joined()
        let body = rows.map { "<tr>" + $0.map { "<td>\($0)</td>" }.joined() + "</tr>" }.joined(separator: "\n")
        return "<div class=\"scroll\"><table><thead><tr>\(head)</tr></thead><tbody>\n\(body)\n</tbody></table></div>"
    }
}
