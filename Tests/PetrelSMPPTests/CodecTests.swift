import NIOCore
import NIOTestUtils
import Testing

@testable import PetrelSMPP

@Suite struct CodecTests {
    static let samples: [PDU] = [
        PDU(.bind(Bind(mode: .transceiver, systemID: "petrel", password: "secret", systemType: "SMS")), sequence: 1),
        PDU(.bind(Bind(mode: .transmitter, systemID: "a", password: "")), sequence: 2),
        PDU(
            .bind(
                Bind(
                    mode: .receiver,
                    systemID: "a",
                    password: "b",
                    addressRange: Address(ton: 1, npi: 1, address: "852")
                )
            ),
            sequence: 3
        ),
        PDU(
            .bindResp(BindResp(mode: .transceiver, systemID: "smsc", tlvs: [.uint8(TLV.Tag.scInterfaceVersion, 0x34)])),
            sequence: 1
        ),
        PDU(.bindResp(BindResp(mode: .transmitter, systemID: "")), sequence: 2, status: .invalidPassword),
        PDU(.unbind, sequence: 9),
        PDU(.unbindResp, sequence: 9),
        PDU(.enquireLink, sequence: 10),
        PDU(.enquireLinkResp, sequence: 10),
        PDU(.genericNack, sequence: 11, status: .invalidCommandID),
        PDU(
            .submitSm(
                ShortMessage(
                    source: Address(ton: 5, npi: 0, address: "Petrel"),
                    destination: .international("85291234567"),
                    esmClass: 0x40,
                    validityPeriod: "000001000000000R",
                    registeredDelivery: 1,
                    dataCoding: 8,
                    shortMessage: [0x05, 0x00, 0x03, 0x01, 0x02, 0x01, 0x4E, 0x2D],
                    tlvs: [.uint16(TLV.Tag.sarMsgRefNum, 7)]
                )
            ),
            sequence: 12
        ),
        PDU(.submitSmResp(messageID: "0A1B2C"), sequence: 12),
        PDU(
            .deliverSm(
                ShortMessage(
                    esmClass: 0x04,
                    shortMessage: Array("id:1 stat:DELIVRD".utf8),
                    tlvs: [.cString(TLV.Tag.receiptedMessageID, "1"), .uint8(TLV.Tag.messageState, 2)]
                )
            ),
            sequence: 13
        ),
        PDU(.deliverSmResp(messageID: ""), sequence: 13),
        PDU(
            .dataSm(
                DataSm(
                    source: .international("1"),
                    destination: .international("2"),
                    esmClass: 4,
                    tlvs: [.cString(TLV.Tag.receiptedMessageID, "77")]
                )
            ),
            sequence: 14
        ),
        PDU(.dataSmResp(messageID: "x", tlvs: []), sequence: 14),
    ]

    @Test func roundTrips() throws {
        for pdu in Self.samples {
            var buffer = try pdu.encoded
            #expect(buffer.getInteger(at: 0, as: UInt32.self) == UInt32(buffer.readableBytes))
            var decoder = SMPPDecoder()
            let frame = try decoder.decode(buffer: &buffer)
            #expect(frame == .pdu(pdu), "\(pdu.commandID)")
            #expect(buffer.readableBytes == 0)
        }
    }

    /// Found by Fuzz/SMPP: a source address with bytes that are not UTF-8 came back changed after a re-encode.
    @Test func cStringsKeepEveryByte() throws {
        var bytes = try PDU(.submitSm(ShortMessage(source: Address(ton: 5, npi: 0, address: "Petrel"))), sequence: 4)
            .encoded
        let at = bytes.readableBytesView.firstIndex(of: UInt8(ascii: "P"))!
        bytes.setBytes([0xFF, 0xE9, 0x80], at: at)  // "Pet" → three non-ASCII bytes
        var decoder = SMPPDecoder()
        guard case .pdu(let pdu)? = try decoder.decode(buffer: &bytes), case .submitSm(let m) = pdu.body else {
            Issue.record("not decoded")
            return
        }
        #expect(m.source.address == "\u{FF}\u{E9}\u{80}rel")
        var again = try pdu.encoded
        var second = SMPPDecoder()
        #expect(try second.decode(buffer: &again) == .pdu(pdu))
        #expect(
            try PDU(.submitSm(ShortMessage(source: Address(address: "中A"))), sequence: 1).encoded.readableBytesView
                .contains(UInt8(ascii: "?"))
        )
    }

    @Test func decoderHandlesEveryChunking() throws {
        let pairs = try Self.samples.map { (try $0.encoded, [SMPPFrame.pdu($0)]) }
        try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: pairs,
            decoderFactory: { SMPPDecoder() }
        )
    }

    @Test func knownWireBytes() throws {
        // enquire_link, sequence 7: 16 bytes of header only.
        let bytes = try Array(PDU(.enquireLink, sequence: 7).encoded.readableBytesView)
        #expect(bytes == [0, 0, 0, 16, 0, 0, 0, 0x15, 0, 0, 0, 0, 0, 0, 0, 7])
        let resp = try Array(PDU(.submitSmResp(messageID: "AB"), sequence: 1).encoded.readableBytesView)
        #expect(resp == [0, 0, 0, 19, 0x80, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 1, 0x41, 0x42, 0])
    }

    /// Issue 20 F1: lengths written from a text or a peer are checked; the old encoder trapped in UInt8(...) and
    /// UInt16(...) on them.
    @Test func oversizedFieldsAreEncodingErrors() throws {
        var buffer = ByteBuffer()
        buffer.writeString("kept")
        let longSM = PDU(.submitSm(ShortMessage(shortMessage: Array(repeating: 0x41, count: 255))), sequence: 1)
        #expect(throws: SMPPEncodingError.self) { try longSM.encode(into: &buffer) }
        let longTLV = PDU(
            .submitSm(
                ShortMessage(tlvs: [TLV(tag: TLV.Tag.messagePayload, value: Array(repeating: 0, count: 65_536))])
            ),
            sequence: 1
        )
        #expect(throws: SMPPEncodingError.self) { try longTLV.encode(into: &buffer) }
        let tooBig = PDU(
            .dataSm(
                DataSm(tlvs: [
                    TLV(tag: TLV.Tag.messagePayload, value: Array(repeating: 0, count: 40_000)),
                    TLV(tag: 0x1400, value: Array(repeating: 0, count: 40_000)),
                ])
            ),
            sequence: 1
        )
        #expect(throws: SMPPEncodingError.self) { try tooBig.encode(into: &buffer) }
        // A failed encode leaves nothing half-written behind.
        #expect(buffer.readableBytes == 4)
        try PDU(.submitSm(ShortMessage(shortMessage: Array(repeating: 0x41, count: 254))), sequence: 1).encode(
            into: &buffer
        )
        #expect(buffer.readableBytes > 254)
    }

    func frame(_ command: UInt32, sequence: UInt32 = 5, body: [UInt8]) -> ByteBuffer {
        var b = ByteBuffer()
        b.writeMultipleIntegers(UInt32(16 + body.count), command, UInt32(0), sequence, endianness: .big)
        b.writeBytes(body)
        return b
    }

    @Test func malformedBodiesAreReportedNotFatal() throws {
        var decoder = SMPPDecoder()
        var unknown = frame(0x0000_0099, body: [])
        guard case .malformed(_, 5, let e1)? = try decoder.decode(buffer: &unknown) else {
            Issue.record("unknown id")
            return
        }
        #expect(e1.status == .invalidCommandID)

        var truncated = frame(0x0000_0002, body: Array("petrel".utf8))  // system_id without its NUL
        guard case .malformed(_, _, let e2)? = try decoder.decode(buffer: &truncated) else {
            Issue.record("truncated")
            return
        }
        #expect(e2.status == .invalidCommandLength)

        var longID = frame(0x0000_0002, body: Array(String(repeating: "x", count: 20).utf8) + [0, 0, 0, 0x34, 0, 0, 0])
        guard case .malformed? = try decoder.decode(buffer: &longID) else {
            Issue.record("long system_id")
            return
        }

        var smLength = frame(0x0000_0004, body: [0, 1, 1, 0, 1, 1, 0x31, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 200, 0x41])
        guard case .malformed(_, _, let e3)? = try decoder.decode(buffer: &smLength) else {
            Issue.record("sm_length")
            return
        }
        #expect(e3.status == .invalidMessageLength)

        var badTLV = frame(0x8000_0009, body: [0x41, 0, 0x02, 0x10, 0, 5, 1])
        guard case .malformed(_, _, let e4)? = try decoder.decode(buffer: &badTLV) else {
            Issue.record("tlv")
            return
        }
        #expect(e4.status == .invalidOptionalParameter)

        var bodyOnEnquire = frame(0x0000_0015, body: [1])
        guard case .malformed? = try decoder.decode(buffer: &bodyOnEnquire) else {
            Issue.record("enquire body")
            return
        }

        // Still in step: the next PDU decodes.
        var next = try PDU(.enquireLink, sequence: 8).encoded
        #expect(try decoder.decode(buffer: &next) == .pdu(PDU(.enquireLink, sequence: 8)))
    }

    @Test func impossibleLengthsCloseTheStream() throws {
        var decoder = SMPPDecoder()
        var short = ByteBuffer(bytes: [0, 0, 0, 4, 0, 0, 0, 0x15, 0, 0, 0, 0, 0, 0, 0, 1])
        #expect(throws: SMPPFramingError.self) { try decoder.decode(buffer: &short) }
        var huge = ByteBuffer(bytes: [0x7F, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0x15])
        #expect(throws: SMPPFramingError.self) { try decoder.decode(buffer: &huge) }
        var partial = ByteBuffer(bytes: [0, 0])
        #expect(try decoder.decode(buffer: &partial) == nil)
    }

    @Test func statusHandling() {
        #expect(CommandStatus.ok.handling == .accepted)
        #expect(CommandStatus.throttled.handling == .slowDown)
        #expect(CommandStatus.messageQueueFull.handling == .slowDown)
        #expect(CommandStatus.systemError.handling == .retry)
        #expect(CommandStatus.invalidDestinationAddress.handling == .reroute)
        #expect(CommandStatus.invalidSourceAddress.handling == .fail)
        #expect(CommandStatus.throttled.name == "ESME_RTHROTTLED")
        #expect(CommandStatus(rawValue: 0x400).name == "ESME_0x00000400")
    }
}
