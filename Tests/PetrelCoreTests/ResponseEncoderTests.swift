import Foundation
import PetrelCore
import Testing

@Suite struct ResponseEncoderTests {
    @Test func jsonAndXML() {
        let fields: [(String, ResponseValue)] = [
            ("Code", .string("A\"<&>")), ("NumberDetail", .object([("Country", .string("Hong Kong"))])),
        ]
        #expect(
            String(decoding: ResponseEncoder.encode(fields, root: "R", format: .json), as: UTF8.self)
                == #"{"Code":"A\"<&>","NumberDetail":{"Country":"Hong Kong"}}"#
        )
        #expect(
            String(decoding: ResponseEncoder.encode(fields, root: "R", format: .xml), as: UTF8.self)
                == "<?xml version='1.0' encoding='UTF-8'?><R><Code>A&quot;&lt;&amp;&gt;</Code><NumberDetail><Country>Hong Kong</Country></NumberDetail></R>"
        )
        #expect(ResponseEncoder.jsonArrayText(["1", "2"]) == #"["1","2"]"#)
    }

    /// Every string a client can make us echo comes back as the same string through a JSON parser.
    @Test func jsonStringsRoundTrip() throws {
        let texts = [
            "", "plain", "quote \" back \\ slash", "tab\tnew\nline\rcr", "\u{01}\u{1F}\u{7F}", "短信 ✉️ 𝄞", "end\\",
        ]
        for text in texts {
            var out: [UInt8] = []
            ResponseEncoder.jsonString(text, into: &out)
            let parsed = try JSONSerialization.jsonObject(with: Data(out), options: [.fragmentsAllowed]) as? String
            #expect(parsed == text, "\(String(decoding: out, as: UTF8.self))")
        }
        var out: [UInt8] = []
        ResponseEncoder.jsonString("a\u{01}b", into: &out)
        #expect(String(decoding: out, as: UTF8.self) == #""a\u0001b""#)
    }
}
