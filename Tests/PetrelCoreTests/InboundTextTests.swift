import Testing

@testable import PetrelCore

@Suite struct InboundTextTests {
    func ucs2(_ s: String) -> [UInt8] {
        s.utf16.flatMap { [UInt8(truncatingIfNeeded: $0 >> 8), UInt8(truncatingIfNeeded: $0)] }
    }

    @Test func decodesByDataCoding() {
        #expect(InboundText.decode(GSM0338.encode("Hi {you} €5") ?? [], dataCoding: 0) == ("Hi {you} €5", "gsm7"))
        #expect(InboundText.decode(Array("plain".utf8), dataCoding: 1) == ("plain", "ascii"))
        #expect(InboundText.decode([0x63, 0x61, 0x66, 0xE9], dataCoding: 3) == ("café", "latin1"))
        #expect(InboundText.decode(ucs2("你好 👋"), dataCoding: 8) == ("你好 👋", "ucs2"))
        // Data coding group 0xF0: bit 2 clear is the GSM alphabet, set is 8-bit data.
        #expect(InboundText.decode(Array("ok".utf8), dataCoding: 0xF1) == ("ok", "gsm7"))
        #expect(InboundText.decode([0x01, 0xFF], dataCoding: 0xF5) == ("01ff", "hex"))
    }

    @Test func whatCannotBeDecodedIsKeptAsHex() {
        #expect(InboundText.decode([0x00, 0x41, 0x00], dataCoding: 8) == ("004100", "hex"))  // odd length
        #expect(InboundText.decode([0xD8, 0x3D, 0x00, 0x41], dataCoding: 8) == ("d83d0041", "hex"))  // lone surrogate
        #expect(InboundText.decode([0x41, 0x80], dataCoding: 0) == ("4180", "hex"))  // not a septet
        #expect(InboundText.decode([0xDE, 0xAD], dataCoding: 4) == ("dead", "hex"))  // binary
        #expect(InboundText.decode([0x41], dataCoding: 0x42) == ("41", "hex"))  // unknown
        #expect(InboundText.decode([], dataCoding: 8) == ("", "ucs2"))
    }

    /// A NUL read as text cannot be stored in PostgreSQL (the whole batch failed, again at each resend): hex.
    @Test func aNulIsKeptAsHex() {
        #expect(InboundText.decode([0x41, 0x00], dataCoding: 1) == ("4100", "hex"))
        #expect(InboundText.decode([0x00, 0xE9], dataCoding: 3) == ("00e9", "hex"))
        #expect(InboundText.decode([0x00, 0x00, 0x00, 0x41], dataCoding: 8) == ("00000041", "hex"))
        // GSM 03.38's 0x00 is "@", not a NUL.
        #expect(InboundText.decode([0x00], dataCoding: 0) == ("@", "gsm7"))
        let mixed = InboundText.assemble([part(1, of: 2, [0x41], coding: 0), part(2, of: 2, [0, 0], coding: 8)])
        #expect(mixed.text == "A0000" && mixed.encoding == "mixed")
    }

    func part(_ seq: Int, of total: Int, _ body: [UInt8], coding: UInt8 = 8) -> InboundPart {
        InboundPart(
            channel: "c",
            from: "85291234567",
            to: "85260001234",
            dataCoding: coding,
            body: body,
            concat: .init(reference: 7, total: total, seq: seq),
            receivedAtMs: Int64(seq)
        )
    }

    /// Parts in any order, each sequence number once; a surrogate pair split across two parts still decodes.
    @Test func assemblesPartsInOrder() {
        let bytes = ucs2("ab👋cd")  // 12 bytes; the emoji is bytes 4..<8
        let parts = [part(3, of: 3, Array(bytes[6...])), part(1, of: 3, Array(bytes[..<6])), part(2, of: 3, [])]
        let whole = InboundText.assemble(parts + [part(1, of: 3, Array(bytes[..<6]))])
        #expect(whole.text == "ab👋cd" && whole.encoding == "ucs2" && !whole.incomplete)
        let partial = InboundText.assemble([part(1, of: 3, ucs2("ab")), part(3, of: 3, ucs2("cd"))])
        #expect(partial.text == "abcd" && partial.incomplete)
    }

    @Test func mixedCodingsAreDecodedPartByPart() {
        let r = InboundText.assemble([part(2, of: 2, ucs2("é")), part(1, of: 2, Array("a".utf8), coding: 0)])
        #expect(r.text == "aé" && r.encoding == "mixed" && !r.incomplete)
    }

    @Test func theFingerprintTellsPartsApart() {
        let a = part(1, of: 2, [1, 2])
        var b = a
        #expect(a.fingerprint == b.fingerprint)
        b.concat?.seq = 2
        #expect(a.fingerprint != b.fingerprint)
        b = a
        b.body = [1, 3]
        #expect(a.fingerprint != b.fingerprint)
        b = a
        b.receivedAtMs = 99  // a resend comes later: still the same part
        b.channel = "other"  // and on another bind
        #expect(a.fingerprint == b.fingerprint)
        #expect(a.groupKey == "85291234567|85260001234|7|2")
        // Another account's part is another part, of another message.
        b = a
        b.account = "other"
        #expect(a.fingerprint != b.fingerprint && a.groupKey != b.groupKey)
    }
}
