import Foundation
import PetrelCore

/// Markup, escaped by construction. In an `HTML` literal, an interpolated string (or number) is escaped for text
/// and for quoted attribute values alike, and an `HTML` value goes in as it is: `"<td>\(name)</td>"` is safe
/// whatever `name` holds. The literal parts are the author's markup. `HTML(raw:)` is the one visible way to take a
/// string as markup unescaped: for markup this type has already made, or a constant.
struct HTML: Sendable, Equatable, ExpressibleByStringInterpolation, CustomStringConvertible {
    private(set) var text: String

    init(raw text: String) { self.text = text }
    init(stringLiteral value: String) { text = value }
    init(stringInterpolation: Interpolation) { text = stringInterpolation.text }

    var description: String { text }

    struct Interpolation: StringInterpolationProtocol {
        var text = ""

        init(literalCapacity: Int, interpolationCount: Int) {
            text.reserveCapacity(literalCapacity + 16 * interpolationCount)
        }

        mutating func appendLiteral(_ literal: String) { text += literal }
        mutating func appendInterpolation(_ value: HTML) { text += value.text }
        mutating func appendInterpolation(_ value: String) { HTML.escape(value[...], into: &text) }
        mutating func appendInterpolation(_ value: Substring) { HTML.escape(value, into: &text) }
        /// An integer's digits and sign need no escaping.
        mutating func appendInterpolation(_ value: Int) { text += String(value) }
        mutating func appendInterpolation(_ value: Int64) { text += String(value) }
        mutating func appendInterpolation(_ value: Double) { HTML.escape(String(value)[...], into: &text) }
    }

    static func + (a: HTML, b: HTML) -> HTML { HTML(raw: a.text + b.text) }
    static func += (a: inout HTML, b: HTML) { a.text += b.text }

    /// Appends `s` with `&`, `<`, `>`, `"` and `'` as entities: safe in text and in quoted attribute values. The
    /// five are ASCII, so the runs between them are copied whole.
    static func escape(_ s: Substring, into out: inout String) {
        let bytes = s.utf8
        var run = bytes.startIndex
        var i = run
        while i != bytes.endIndex {
            let entity: String? =
                switch bytes[i] {
                case UInt8(ascii: "&"): "&amp;"
                case UInt8(ascii: "<"): "&lt;"
                case UInt8(ascii: ">"): "&gt;"
                case UInt8(ascii: "\""): "&quot;"
                case UInt8(ascii: "'"): "&#39;"
                default: nil
                }
            let next = bytes.index(after: i)
            if let entity {
                out.append(contentsOf: s[run..<i])
                out += entity
                run = next
            }
            i = next
        }
        out.append(contentsOf: s[run..<bytes.endIndex])
    }
}

extension Sequence<HTML> {
    func joined(separator: HTML = "") -> HTML {
        var out = ""
        var first = true
        for part in self {
            if !first { out += separator.text }
            out += part.text
            first = false
        }
        return HTML(raw: out)
    }
}

/// The page frame and small formatting helpers.
extension HTML {
    /// The navigation; a section shows only to keys whose policy allows one of its actions.
    static let sections: [(path: String, title: String, needs: [String])] = [
        ("/console", "Overview", []), ("/console/statistics", "Statistics", [ConsoleAction.query]),
        ("/console/messages", "Messages", [ConsoleAction.query]),
        ("/console/inbox", "Sandbox inbox", [ConsoleAction.query]),
        ("/console/inbound", "Inbound", [ConsoleAction.query]),
        ("/console/optout", "Opt-out", [ConsoleAction.optOut]),
        ("/console/campaigns", "Campaigns", [ConsoleAction.campaigns]),
        ("/console/channels", "Channels", [ConsoleAction.channels]),
        ("/console/receipts", "Receipts", [ConsoleAction.receipts]),
        ("/console/limits", "Limits", [ConsoleAction.limits]),
        ("/console/keys", "Keys & templates", [ConsoleAction.keys, ConsoleAction.templates]),
        ("/console/approvals", "Approvals", [ConsoleAction.operate]),
    ]

    /// A whole page: navigation, the account, sign-out (a form with the CSRF token), the cap banner (signed in)
    /// and `body`.
    static func page(title: String, active: String, session: ConsoleSessions.Session?, body: HTML) -> HTML {
        var nav: HTML = ""
        if let session {
            let links = sections.filter { $0.needs.isEmpty || $0.needs.contains(where: session.may) }.map { s -> HTML in
                "<a href=\"\(s.path)\"\(when(s.path == active, " aria-current=\"page\""))>\(s.title)</a>"
            }
            nav = """
                <nav aria-label="Sections">\(links.joined())<form method="post" action="/console/logout" class="signout">\
                \(csrfField(session))\
                <span class="account">\(session.account)</span> \
                <button type="submit">Sign out</button></form></nav>
                """
        }
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="color-scheme" content="light dark">
            <title>\(title) · Petrel</title>
            <link rel="icon" href="\(favicon)">
            <link rel="stylesheet" href="/console/static/console.css">
            <script src="/console/static/console.js" defer></script>
            </head><body>
            <a class="skip" href="#main">Skip to the page</a>
            <header><a class="brand" href="/console"><img src="\(favicon)" alt="" width="22" height="22">Petrel</a>\
            \(nav)</header>
            <main id="main" tabindex="-1">\(session == nil ? "" : Console.banner)<h1>\(title)</h1>
            \(body)
            </main></body></html>
            """
    }

    /// The petrel over a wave, as an inline SVG: no request, no file (the CSP admits `data:` images).
    static let favicon: HTML = """
        data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'%3E\
        %3Crect width='32' height='32' rx='7' fill='%2314213d'/%3E\
        %3Cpath d='M5 17c5-1 8-5 11-9 1 4 4 6 11 5-5 3-9 4-13 4-3 0-6 1-9 0z' fill='%23fff'/%3E\
        %3Cpath d='M5 24c4-2 7-2 11 0s7 2 11 0' stroke='%237fb3ff' stroke-width='2' fill='none'/%3E%3C/svg%3E
        """

    /// `markup` if `condition` holds, else nothing: an optional attribute or class.
    static func when(_ condition: Bool, _ markup: HTML) -> HTML { condition ? markup : "" }

    static func csrfField(_ session: ConsoleSessions.Session) -> HTML {
        "<input type=\"hidden\" name=\"csrf\" value=\"\(session.csrf)\">"
    }

    /// The offset from UTC of the times the console shows and reads: `api.dateOffset`, the zone the API answers the
    /// account in (SendDate, ReceiveDate). Set per request by `Console`; UTC outside one.
    @TaskLocal static var offsetSeconds = 0

    /// `UTC+08:00`: the zone of every time the console shows, for labels and form fields.
    static var zoneName: String { "UTC" + offsetText(offsetSeconds) }

    /// `+08:00`, `-05:30`, `+00:00`.
    static func offsetText(_ seconds: Int) -> String {
        let m = abs(seconds) / 60
        let hh = m / 60 < 10 ? "0\(m / 60)" : "\(m / 60)"
        let mm = m % 60 < 10 ? "0\(m % 60)" : "\(m % 60)"
        return (seconds < 0 ? "-" : "+") + hh + ":" + mm
    }

    /// `2026-11-26 14:42:47 +08:00`: the one time format of every page, in the console's zone with its offset.
    static func time(_ ms: Int64?) -> String {
        guard let ms else { return "" }
        return AlibabaDate.plain(ms: ms, offsetSeconds: offsetSeconds) + " " + offsetText(offsetSeconds)
    }

    /// A table of `rows` under `headers` (text), or `empty` (text) when there are no rows. Written straight into one
    /// string: the messages page has hundreds of rows of eight cells.
    static func table(_ headers: [String], _ rows: [[HTML]], empty: String = "Nothing yet.") -> HTML {
        guard !rows.isEmpty else { return "<p class=\"empty\">\(empty)</p>" }
        var out = "<div class=\"scroll\"><table><thead><tr>"
        for header in headers {
            out += "<th>"
            escape(header[...], into: &out)
            out += "</th>"
        }
        out += "</tr></thead><tbody>\n"
        for (i, row) in rows.enumerated() {
            out += i == 0 ? "<tr>" : "\n<tr>"
            for cell in row {
                out += "<td>"
                out += cell.text
                out += "</td>"
            }
            out += "</tr>"
        }
        out += "\n</tbody></table></div>"
        return HTML(raw: out)
    }
}
