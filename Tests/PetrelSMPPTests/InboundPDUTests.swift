import PetrelCore
import Testing

@testable import PetrelSMPP

@Suite struct InboundPDUTests {
    func deliver(_ bytes: [UInt8], esm: UInt8 = 0, coding: UInt8 = 0, tlvs: [TLV] = []) -> PDU {
        PDU(
            .deliverSm(
                ShortMessage(
                    source: .international("+85291234567"),
                    destination: .international("85260001234"),
                    esmClass: esm,
                    dataCoding: coding,
                    shortMessage: bytes,
                    tlvs: tlvs
                )
            ),
            sequence: 9
        )
    }

    @Test func aWholeMessage() throws {
        let p = try #require(InboundPDU.part(deliver(Array("STOP".utf8)), channel: "c", nowMs: 5))
        #expect(p.from == "85291234567" && p.to == "85260001234" && p.body == Array("STOP".utf8))
        #expect(p.concat == nil && p.channel == "c" && p.receivedAtMs == 5 && p.groupKey == "")
    }

    @Test func aNationalSenderIsReadAsTheChannelsCountrysNumber() throws {
        var pdu = deliver(Array("STOP".utf8))
        if case .deliverSm(var m) = pdu.body {
            m.source = Address(ton: 2, npi: 1, address: "0912345678")
            pdu = PDU(.deliverSm(m), sequence: 9)
        }
        let taiwan = NumberingPlan.shared.region("TW")
        #expect(InboundPDU.part(pdu, channel: "c", nowMs: 0, country: taiwan)?.from == "886912345678")
        #expect(InboundPDU.part(pdu, channel: "c", nowMs: 0)?.from == "0912345678")
    }

    @Test func udhWithAnEightBitReference() throws {
        let p = try #require(
            InboundPDU.part(deliver([5, 0, 3, 0xAB, 3, 2] + [0x41], esm: 0x40), channel: "c", nowMs: 0)
        )
        #expect(p.concat == .init(reference: 0xAB, total: 3, seq: 2) && p.body == [0x41])
    }

    @Test func udhWithASixteenBitReferenceAfterAnotherElement() throws {
        // A port-addressing element (IEI 0x05, 4 octets) first, then IEI 0x08.
        let header: [UInt8] = [12, 0x05, 4, 0x0B, 0x84, 0x23, 0xF0, 0x08, 4, 0x12, 0x34, 2, 1]
        let p = try #require(InboundPDU.part(deliver(header + [0x42], esm: 0x40), channel: "c", nowMs: 0))
        #expect(p.concat == .init(reference: 0x1234, total: 2, seq: 1) && p.body == [0x42])
    }

    /// A "part" bigger than any SMS part is a message of its own: 255 of them joined were one 16 MB message.
    @Test func anOversizedPartIsAMessageOfItsOwn() throws {
        let body = [UInt8](repeating: 0x41, count: InboundPDU.maxPartBytes + 1)
        let udh = try #require(
            InboundPDU.part(deliver([5, 0, 3, 0xAB, 3, 2] + body, esm: 0x40), channel: "c", nowMs: 0)
        )
        #expect(udh.concat == nil && udh.body == body)
        let tlvs: [TLV] = [
            .uint16(TLV.Tag.sarMsgRefNum, 300), .uint8(TLV.Tag.sarTotalSegments, 255),
            .uint8(TLV.Tag.sarSegmentSeqnum, 1), TLV(tag: TLV.Tag.messagePayload, value: body),
        ]
        let sar = try #require(InboundPDU.part(deliver([], tlvs: tlvs), channel: "c", nowMs: 0))
        #expect(sar.concat == nil && sar.body == body)
        let fits = try #require(
            InboundPDU.part(deliver([5, 0, 3, 0xAB, 3, 2] + body.dropLast(), esm: 0x40), channel: "c", nowMs: 0)
        )
        #expect(fits.concat == .init(reference: 0xAB, total: 3, seq: 2))
    }

    @Test func sarTLVs() throws {
        let tlvs: [TLV] = [
            .uint16(TLV.Tag.sarMsgRefNum, 300), .uint8(TLV.Tag.sarTotalSegments, 2),
            .uint8(TLV.Tag.sarSegmentSeqnum, 2),
        ]
        let p = try #require(InboundPDU.part(deliver([0x43], tlvs: tlvs), channel: "c", nowMs: 0))
        #expect(p.concat == .init(reference: 300, total: 2, seq: 2) && p.body == [0x43])
    }

    @Test func dataSmCarriesItsTextInThePayload() throws {
        let pdu = PDU(
            .dataSm(
                DataSm(
                    source: .international("1"),
                    destination: .international("2"),
                    dataCoding: 8,
                    tlvs: [TLV(tag: TLV.Tag.messagePayload, value: [0, 0x41])]
                )
            ),
            sequence: 1
        )
        let p = try #require(InboundPDU.part(pdu, channel: "c", nowMs: 0))
        #expect(p.body == [0, 0x41] && p.dataCoding == 8 && p.concat == nil)
    }

    /// Lengths and counts come from the peer: a header that overruns, or a sequence number outside its total, leaves
    /// the bytes whole (kept, never trapped on).
    @Test func hostileHeadersAreKeptAsTheyCame() throws {
        for bytes: [UInt8] in [[200, 0, 3, 1], [], [5, 0, 9, 1, 2, 3], [3, 0, 3, 1]] {
            let p = try #require(InboundPDU.part(deliver(bytes, esm: 0x40), channel: "c", nowMs: 0))
            #expect(p.concat == nil)
        }
        let overrun = try #require(InboundPDU.part(deliver([200, 0, 3, 1], esm: 0x40), channel: "c", nowMs: 0))
        #expect(overrun.body == [200, 0, 3, 1])
        for (total, seq): (UInt8, UInt8) in [(3, 0), (3, 4), (1, 1), (0, 0)] {
            let p = try #require(
                InboundPDU.part(deliver([5, 0, 3, 1, total, seq, 0x41], esm: 0x40), channel: "c", nowMs: 0)
            )
            #expect(p.concat == nil && p.body == [0x41])
        }
    }

    @Test func otherPDUsAreNotInbound() {
        #expect(InboundPDU.part(PDU(.enquireLink, sequence: 1), channel: "c", nowMs: 0) == nil)
    }
}
