import PetrelCore
import Testing

@testable import PetrelServer

/// The console's markup type: what is interpolated is escaped unless it is already `HTML`.
@Suite struct HTMLTests {
    static let hostile = #"<script>alert("x" & 'y')</script>"#
    static let escaped = "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;"

    @Test func stringsAreEscapedInTextAndAttributes() {
        let s = Self.hostile
        let page: HTML = "<a href=\"/x?to=\(s)\" title='\(s[...])'>\(s)</a>"
        #expect(page.description == "<a href=\"/x?to=\(Self.escaped)\" title='\(Self.escaped)'>\(Self.escaped)</a>")
        // Plain text and the empty string come through unchanged; multi-byte text is kept whole.
        #expect(("<p>\("Grüße 你好 · ok")\("")</p>" as HTML).description == "<p>Grüße 你好 · ok</p>")
    }

    @Test func markupGoesInAsItIsAndNumbersAsDigits() {
        let inner: HTML = "<b>\(Self.hostile)</b>"
        let outer: HTML = "<p>\(inner) \(42) \(Int64(-7)) \(1.5)</p>"
        #expect(outer.description == "<p><b>\(Self.escaped)</b> 42 -7 1.5</p>")
        #expect(HTML(raw: "<hr>").description == "<hr>")
        #expect(("<i>" as HTML) + "\(Self.hostile)" == HTML(raw: "<i>\(Self.escaped)"))
    }

    @Test func joinedAndWhen() {
        let items: [HTML] = ["<li>\("a<b")</li>", "<li>2</li>"]
        #expect(items.joined().description == "<li>a&lt;b</li><li>2</li>")
        #expect(items.joined(separator: "\n").description == "<li>a&lt;b</li>\n<li>2</li>")
        #expect([HTML]().joined().description == "")
        let link: HTML = "<a\(HTML.when(true, " class=\"active\""))\(HTML.when(false, " hidden"))>"
        #expect(link == HTML(raw: "<a class=\"active\">"))
    }

    @Test func tableEscapesHeadersAndEmptyTextAndKeepsCells() {
        let table = HTML.table(["A&B", "<C>"], [["\("x<y")", "<b>1</b>"], ["2", "3"]])
        #expect(
            table.description == """
                <div class="scroll"><table><thead><tr><th>A&amp;B</th><th>&lt;C&gt;</th></tr></thead><tbody>
                <tr><td>x&lt;y</td><td><b>1</b></td></tr>
                <tr><td>2</td><td>3</td></tr>
                </tbody></table></div>
                """
        )
        #expect(HTML.table(["A"], [], empty: "None <yet>").description == "<p class=\"empty\">None &lt;yet&gt;</p>")
    }

    @Test func statusBadgeUsesTheStatusName() {
        for status in MessageStatus.allCases {
            let badge = "<span class=\"status s-\(status.name)\">\(status.name)</span>"
            #expect(Console.status(status).description == badge)
        }
    }
}
