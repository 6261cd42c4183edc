import Testing

@testable import PetrelCore

@Suite struct SMSTextTests {
    @Test func asciiFastPathAgreesWithTheBasicTable() {
        for v in UInt32(0)..<0x80 {
            let scalar = Unicode.Scalar(v)!
            let expected: Int? =
                GSM0338.basicIndex[scalar] != nil ? 1 : GSM0338.extended[scalar] != nil ? 2 : nil
            #expect(GSM0338.septets(scalar) == expected, "U+\(String(v, radix: 16))")
        }
    }

    @Test func gsmSingleAndLong() {
        #expect(SMSText(String(repeating: "a", count: 160)).segments == 1)
        let long = SMSText(String(repeating: "a", count: 161))
        #expect(long.encoding == .gsm7)
        #expect(long.segments == 2)
        #expect(long.parts.map(\.count) == [153, 8])
        #expect(SMSText(String(repeating: "a", count: 306)).segments == 2)
        #expect(SMSText(String(repeating: "a", count: 307)).segments == 3)
        #expect(SMSText("").segments == 1)
    }

    @Test func extensionCharactersCountDouble() {
        let t = SMSText(String(repeating: "{", count: 80))
        #expect(t.encoding == .gsm7 && t.units == 160 && t.segments == 1)
        #expect(SMSText(String(repeating: "€", count: 81)).segments == 2)
        // 152 septets then a two-septet character: it must not be split across parts.
        let edge = SMSText(String(repeating: "a", count: 152) + "^" + String(repeating: "b", count: 10))
        #expect(edge.parts.first?.count == 152)
    }

    @Test func ucs2() {
        let t = SMSText(String(repeating: "é", count: 10) + "中")
        #expect(t.encoding == .ucs2)
        #expect(SMSText(String(repeating: "中", count: 70)).segments == 1)
        #expect(SMSText(String(repeating: "中", count: 71)).segments == 2)
        #expect(SMSText(String(repeating: "中", count: 134)).segments == 2)
        #expect(SMSText(String(repeating: "中", count: 135)).segments == 3)
        // An emoji is a surrogate pair: 2 units, never split.
        let emoji = SMSText(String(repeating: "😀", count: 35))
        #expect(emoji.units == 70 && emoji.segments == 1)
        let split = SMSText(String(repeating: "x", count: 66) + String(repeating: "😀", count: 3))
        #expect(split.parts.first?.unicodeScalars.count == 66)
        #expect(SMSText("`").encoding == .ucs2)
    }

    @Test func gsmRoundTrip() throws {
        let text = "Hello @£$ {ü} €"
        let septets = try #require(GSM0338.encode(text))
        #expect(septets.count == text.unicodeScalars.count + 3)
        #expect(GSM0338.decode(septets) == text)
        #expect(GSM0338.encode("中") == nil)
    }
}

@Suite struct SenderIDTests {
    @Test func rules() {
        #expect(SenderID.isValid("Alicloud321"))
        #expect(!SenderID.isValid("Alicloud3210"))
        #expect(SenderID.isValid("123456789012345"))
        #expect(!SenderID.isValid("1234567890123456"))
        #expect(!SenderID.isValid("Ali cloud"))
        #expect(!SenderID.isValid("Ali-cloud"))
        #expect(!SenderID.isValid(""))
        #expect(!SenderID.isValid("Ünïcode"))
    }
}

@Suite struct ByteKeyTests {
    @Test func keysCompareByBytesNotByCanonicalEquivalence() {
        #expect("\u{212A}" == "K")
        #expect(ByteKey("\u{212A}") != ByteKey("K"))
        #expect(ByteKey("caf\u{E9}") != ByteKey("cafe\u{301}"))
        #expect(ByteKey("LTAIabc") == ByteKey(String("xLTAIabc".dropFirst())))
        var d: [ByteKey: Int] = [ByteKey("K"): 1]
        d[ByteKey("\u{212A}")] = 2
        #expect(d.count == 2 && d[ByteKey("K")] == 1)
    }

    @Test func plainIdentifiers() {
        #expect(isPlainIdentifier("LTAI5tAbc"))
        #expect(!isPlainIdentifier(""))
        #expect(!isPlainIdentifier("a b"))
        #expect(!isPlainIdentifier("\u{212A}ey"))
        #expect(!isPlainIdentifier("a\u{0}"))
        #expect(!isPlainIdentifier(String(repeating: "a", count: 129)))
        #expect(isPlainIdentifier(String(repeating: "a", count: 128)))
    }
}
