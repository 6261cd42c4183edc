import PetrelCore
import Testing

@testable import PetrelSMPP

/// Inbound messages (MO) going to an ESME as deliver_sm: addresses, data_coding, concatenation UDH.
@Suite struct InboundDeliverSmTests {
    @Test func shortGSMIsOnePlainDeliverSm() {
        let parts = InboundDeliverSm.make(
            from: "+85291234567",
            to: "1069000",
            text: "Yes, see you at 5 {ok}",
            reference: 7,
            maxParts: 100
        )
        #expect(parts.count == 1)
        let m = parts[0]
        #expect(m.esmClass == 0 && m.dataCoding == 0 && !m.isDeliveryReceipt)
        #expect(m.source == Address(ton: 1, npi: 1, address: "85291234567"))
        #expect(m.destination == Address(ton: 1, npi: 1, address: "1069000"))
        // GSM 03.38, one septet per octet: the braces are escapes (0x1B 0x28, 0x1B 0x29).
        #expect(m.shortMessage == GSM0338.encode("Yes, see you at 5 {ok}"))
        #expect(Array(m.shortMessage.suffix(6)) == [0x1B, 0x28, 0x6F, 0x6B, 0x1B, 0x29])
        #expect(m.tlvs.isEmpty)
    }

    @Test func ucs2WhenAnyCharacterIsNotGSM() {
        let parts = InboundDeliverSm.make(from: "85291234567", to: "PETREL", text: "好的 ok", reference: 1, maxParts: 100)
        #expect(parts.count == 1)
        #expect(parts[0].dataCoding == 8 && parts[0].esmClass == 0)
        #expect(parts[0].shortMessage == [0x59, 0x7D, 0x76, 0x84, 0x00, 0x20, 0x00, 0x6F, 0x00, 0x6B])
        #expect(parts[0].destination == Address(ton: 5, npi: 0, address: "PETREL"))
    }

    @Test func longTextIsConcatenatedWithOneReference() throws {
        // 150 UCS-2 characters: three parts of at most 67.
        let text = String(repeating: "日本語のテキスト。", count: 17).prefix(150)
        let parts = InboundDeliverSm.make(
            from: "85291234567",
            to: "1069000",
            text: String(text),
            reference: 0xA7,
            maxParts: 100
        )
        #expect(parts.count == 3)
        var back: [InboundPart] = []
        for (i, p) in parts.enumerated() {
            #expect(p.esmClass == 0x40 && p.dataCoding == 8)
            #expect(Array(p.shortMessage.prefix(6)) == [0x05, 0x00, 0x03, 0xA7, 3, UInt8(i + 1)])
            #expect(p.shortMessage.count <= 140)
            let pdu = PDU(.deliverSm(p), sequence: UInt32(i + 1))
            back.append(try #require(InboundPDU.part(pdu, channel: "esme", nowMs: 0)))
        }
        // What an ESME reassembles is the text.
        #expect(InboundText.assemble(back).text == String(text))
        // A GSM text of 400 characters: 153 + 153 + 94, in data_coding 0.
        let gsm = InboundDeliverSm.make(
            from: "1",
            to: "2",
            text: String(repeating: "a", count: 400),
            reference: 3,
            maxParts: 100
        )
        #expect(gsm.map(\.shortMessage.count) == [159, 159, 100] && gsm.allSatisfy { $0.dataCoding == 0 })
    }

    @Test func neverMorePartsThanTheWindowOr255() {
        let text = String(repeating: "a", count: 153 * 300)
        #expect(InboundDeliverSm.make(from: "1", to: "2", text: text, reference: 0, maxParts: 4).count == 4)
        #expect(InboundDeliverSm.make(from: "1", to: "2", text: text, reference: 0, maxParts: 1000).count == 255)
        #expect(InboundDeliverSm.make(from: "1", to: "2", text: "", reference: 0, maxParts: 0).count == 1)
        // Addresses a peer chose are cut to SMPP's 20 characters, never refused.
        let long = InboundDeliverSm.make(
            from: String(repeating: "9", count: 40),
            to: String(repeating: "x", count: 40),
            text: "hi",
            reference: 0,
            maxParts: 1
        )
        #expect(long[0].source.address.count == 20 && long[0].destination.address.count == 20)
    }
}
