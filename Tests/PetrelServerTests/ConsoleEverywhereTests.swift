import Foundation
import HTTPTypes
import HummingbirdTesting
import PetrelCore
import PetrelStore
import Testing

@testable import PetrelServer

/// What every console page shares: one time format in the console's zone, the frame (landmarks, favicon), numbers
/// as people write them, errors as sentences, a refused form that keeps what was typed, and a first-run overview.
@Suite struct ConsoleEverywhereTests {
    typealias H = ConsoleHarness

    /// The harness's console, showing times at UTC+08:00.
    static func inChina(_ h: H) -> H {
        var console = h.console
        console.dateOffsetSeconds = 8 * 3600
        return H(store: h.store, console: console, sandbox: h.sandbox)
    }

    @Test func oneTimeFormatWithItsOffset() {
        #expect(HTML.time(0) == "1970-01-01 00:00:00 +00:00")
        #expect(HTML.$offsetSeconds.withValue(8 * 3600) { HTML.time(0) } == "1970-01-01 08:00:00 +08:00")
        #expect(HTML.$offsetSeconds.withValue(-(5 * 3600 + 1800)) { HTML.time(0) } == "1969-12-31 18:30:00 -05:30")
        #expect(HTML.$offsetSeconds.withValue(-(5 * 3600 + 1800)) { HTML.zoneName } == "UTC-05:30")
        #expect(HTML.time(nil) == "")
        // A time field is read in the same zone.
        let local = HTML.$offsetSeconds.withValue(8 * 3600) { Console.parseTime("1970-01-01T08:00") }
        #expect(local == Int64(0))
        #expect(Console.parseTime("1970-01-01T08:00") == Int64(8 * 3_600_000))
    }

    @Test func pagesShowAndReadTimesInTheConsoleZone() async throws {
        try await H.run { plain in
            let h = Self.inChina(plain)
            let at = H.now - 3_600_000
            // Searches by time go by id (ids grow with time), so the message gets the id of its time.
            let id = MessageIDGenerator.firstId(atMs: at)
            try await h.store.commit(
                WriteBatch(messages: [Message(id: id, account: "acme", to: "6591234567", text: "hi", createdAtMs: at)])
            )
            try await h.test { client in
                let (cookie, _) = try await H.signIn(client)
                let local = HTML.$offsetSeconds.withValue(8 * 3600) { HTML.time(at) }
                #expect(local.hasSuffix(" +08:00"))
                let page = try await H.get(client, "/console/messages/\(id)", cookie: cookie).text
                #expect(page.contains("<th>Accepted</th><td>\(local)</td>"))
                // "From" typed as the wall clock of UTC+08:00: a minute before finds it, a minute after does not.
                func field(_ ms: Int64) -> String {
                    let text = AlibabaDate.plain(ms: ms, offsetSeconds: 8 * 3600)
                    return String(text.prefix(16)).replacingOccurrences(of: " ", with: "T")
                }
                let before = try await H.get(client, "/console/messages?since=\(field(at - 60_000))", cookie: cookie)
                #expect(before.text.contains("1 message(s)"))
                #expect(before.text.contains("From (UTC+08:00)"))
                let after = try await H.get(client, "/console/messages?since=\(field(at + 60_000))", cookie: cookie)
                #expect(after.text.contains("0 message(s)"))
            }
        }
    }

    @Test func theFrameHasLandmarksAFaviconAndTheCurrentSection() async throws {
        try await H.run { h in
            try await h.test { client in
                let (cookie, _) = try await H.signIn(client)
                let page = try await H.get(client, "/console/messages", cookie: cookie).text
                #expect(page.contains("<link rel=\"icon\" href=\"data:image/svg+xml,"))
                #expect(page.contains("<a class=\"skip\" href=\"#main\">"))
                #expect(page.contains("<main id=\"main\""))
                #expect(page.contains("<nav aria-label=\"Sections\">"))
                #expect(page.contains("<a href=\"/console/messages\" aria-current=\"page\">Messages</a>"))
                #expect(page.contains("type=\"search\" data-search"))
            }
        }
    }

    @Test func numbersAsPeopleWriteThem() {
        #expect(Console.number("+852 9123-4567") == "85291234567")
        #expect(Console.number("(852) 9123.4567") == "85291234567")
        #expect(Console.number("00 852 91234567") == "85291234567")
        #expect(Console.number("8529123456x") == "")
        #expect(Console.number("+") == "")
        #expect(Console.number("12ab", keepInvalid: true) == "12ab")
        #expect(Console.sentence("number is invalid.", code: "isv.X") == "Number is invalid (isv.X).")
        #expect(Console.sentence("", code: "isv.X") == "The message was refused (isv.X).")
    }

    @Test func aRefusedSendKeepsWhatWasTypedAndSaysWhyInASentence() async throws {
        try await H.run { h in
            try await h.test { client in
                let (cookie, csrf) = try await H.signIn(client)
                let typed = [("to", "12345"), ("from", "Shop"), ("type", "MKT"), ("text", "Keep <this> text")]
                let refused = try await H.post(client, "/console/inbox/send", cookie: cookie, csrf: csrf, typed)
                #expect(refused.status == .ok)
                let page = refused.text
                #expect(page.contains("id=\"send-error\" role=\"alert\">"))
                #expect(page.contains("aria-describedby=\"send-count\">Keep &lt;this&gt; text</textarea>"))
                #expect(page.contains("value=\"Shop\"") && page.contains("<option selected>MKT</option>"))
                #expect(page.contains("value=\"12345\""))
                // Spaces and dashes are how numbers are written: accepted.
                let spaced = [("to", "+852 9123-4567"), ("text", "hello")]
                let sent = try await H.post(client, "/console/inbox/send", cookie: cookie, csrf: csrf, spaced)
                #expect(sent.status == .seeOther)
                #expect(sent.headers[.location] == "/console/inbox?to=85291234567")
            }
        }
    }

    @Test func anEmptyAccountIsToldHowToSendItsFirstMessage() async throws {
        try await H.run { h in
            try await h.test { client in
                let (cookie, _) = try await H.signIn(client)
                let empty = try await H.get(client, "/console", cookie: cookie).text
                #expect(empty.contains("Send a first message") && empty.contains(H.keyId))
                #expect(empty.contains("curl -u \(H.keyId):YOUR_SECRET") && empty.contains("…777"))
                #expect(empty.contains("<code>channels:</code>"))
                let inbox = try await H.get(client, "/console/inbox", cookie: cookie).text
                #expect(inbox.contains("No message has reached the sandbox yet") && inbox.contains("…666"))
                try await h.store.commit(
                    WriteBatch(messages: [Message(id: 1, account: "acme", to: "6591234567", text: "hi", createdAtMs: 1)]
                    )
                )
                let used = try await H.get(client, "/console", cookie: cookie).text
                #expect(!used.contains("Send a first message"))
            }
        }
    }
}
