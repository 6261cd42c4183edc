import NIOCore
import Testing

@testable import PetrelSMPP

@Suite struct ReceiptTests {
    @Test func textReceipt() {
        let r = DeliveryReceipt.parse(
            tlvs: [],
            text: Array(
                "id:0012AB sub:001 dlvrd:001 submit date:2611260101 done date:2611260102 stat:DELIVRD err:000 text:Hello id:9"
                    .utf8
            )
        )
        #expect(r == DeliveryReceipt(messageID: "0012AB", state: .delivered, error: "000"))
        let upper = DeliveryReceipt.parse(
            tlvs: [],
            text: Array("ID:77 SUB:001 DLVRD:000 SUBMIT DATE:2611260101 DONE DATE:2611260102 STAT:UNDELIV ERR:005".utf8)
        )
        #expect(upper?.state == .undeliverable && upper?.error == "005" && upper?.messageID == "77")
    }

    @Test func fieldsKeepTheirWholeValuesAndIgnoreLookalikes() {
        let f = DeliveryReceipt.fields(
            Array("xid:1 id:42  submit date:2611260101 stat:EXPIRED err:00a text:my id:7 stat:x".utf8)
        )
        #expect(f["id"] == "42" && f["submit date"] == "2611260101" && f["stat"] == "EXPIRED" && f["err"] == "00a")
        #expect(f["text"] == "my id:7 stat:x")  // keys already seen do not cut the free text short
        #expect(DeliveryReceipt.fields(Array("stat:DELIVRD".utf8)) == ["stat": "DELIVRD"])
        #expect(DeliveryReceipt.fields([]).isEmpty)
    }

    @Test func tlvsWin() {
        let r = DeliveryReceipt.parse(
            tlvs: [
                .cString(TLV.Tag.receiptedMessageID, "abc"), .uint8(TLV.Tag.messageState, 3),
                TLV(tag: TLV.Tag.networkErrorCode, value: [3, 0, 11]),
            ],
            text: Array("id:zzz stat:DELIVRD".utf8)
        )
        #expect(r == DeliveryReceipt(messageID: "abc", state: .expired, error: "3:11"))
    }

    @Test func notAReceipt() {
        #expect(DeliveryReceipt.parse(tlvs: [], text: Array("hello there".utf8)) == nil)
        #expect(DeliveryReceipt.parse(tlvs: [], text: Array("id: stat:DELIVRD".utf8)) == nil)
    }
}

@Suite struct MessagePartsTests {
    @Test func singleGSMAndUCS2() throws {
        let gsm = try MessageParts.make("Hello {world}", mode: .udh, reference: 1)
        #expect(gsm.count == 1 && gsm[0].dataCoding == 0 && gsm[0].esmClass == 0)
        #expect(gsm[0].shortMessage.count == 15)  // { and } take two septets
        let ucs = try MessageParts.make("中文", mode: .udh, reference: 1)
        #expect(ucs[0].dataCoding == 8 && ucs[0].shortMessage == [0x4E, 0x2D, 0x65, 0x87])
    }

    @Test func udhSarAndPayload() throws {
        let text = String(repeating: "a", count: 200)
        let udh = try MessageParts.make(text, mode: .udh, reference: 0x1234)
        #expect(udh.count == 2)
        #expect(udh[0].esmClass == 0x40 && udh[0].shortMessage.prefix(6) == [0x05, 0x00, 0x03, 0x34, 2, 1])
        #expect(udh[0].shortMessage.count == 6 + 153 && udh[1].shortMessage.count == 6 + 47)
        let sar = try MessageParts.make(text, mode: .sar, reference: 0x1234)
        #expect(sar.count == 2 && sar[1].tlvs[tag: TLV.Tag.sarSegmentSeqnum]?.uint8Value == 2)
        #expect(sar[0].tlvs[tag: TLV.Tag.sarMsgRefNum]?.uint16Value == 0x1234)
        let payload = try MessageParts.make(text, mode: .payload, reference: 0)
        #expect(payload.count == 1 && payload[0].shortMessage.isEmpty && payload[0].tlvs[0].value.count == 200)
        let long = try MessageParts.make(String(repeating: "中", count: 100), mode: .udh, reference: 9)
        #expect(long.count == 2 && long[0].shortMessage.count == 6 + 134)
    }

    /// Issue 20 F1: a text whose encoding exceeded 65,535 bytes trapped in UInt16(...) when its message_payload
    /// was written, and UDH/SAR silently dropped every part after the 255th. Both are errors now.
    @Test func tooLongForTheModeIsAnError() throws {
        let huge = String(repeating: "a", count: 70_000)
        #expect(throws: MessageParts.Problem.self) { try MessageParts.make(huge, mode: .payload, reference: 0) }
        #expect(throws: MessageParts.Problem.self) { try MessageParts.make(huge, mode: .udh, reference: 0) }
        #expect(throws: MessageParts.Problem.self) { try MessageParts.make(huge, mode: .sar, reference: 0) }
        let marks = "e" + String(repeating: "\u{301}", count: 40_000)  // one character, 80,002 bytes in UCS-2
        #expect(throws: MessageParts.Problem.self) { try MessageParts.make(marks, mode: .payload, reference: 0) }
        // The largest that fits: 255 parts of 153 septets; one more septet needs a 256th part.
        #expect(try MessageParts.make(String(repeating: "a", count: 255 * 153), mode: .udh, reference: 0).count == 255)
        #expect(throws: MessageParts.Problem.self) {
            try MessageParts.make(String(repeating: "a", count: 255 * 153 + 1), mode: .udh, reference: 0)
        }
        let payload = try MessageParts.make(
            String(repeating: "a", count: MessageParts.maxPayloadBytes),
            mode: .payload,
            reference: 0
        )
        var buffer = ByteBuffer()
        try PDU(.submitSm(ShortMessage(destination: .international("85291234567"), tlvs: payload[0].tlvs)), sequence: 1)
            .encode(into: &buffer)
        #expect(buffer.readableBytes <= PDU.maxLength)
    }

    @Test func relativeValidity() {
        #expect(MessageParts.relativeValidity(seconds: 600) == "000000001000000R")
        #expect(MessageParts.relativeValidity(seconds: 2 * 86_400 + 3723) == "000002010203000R")
        #expect(MessageParts.relativeValidity(seconds: 10_000 * 86_400).hasPrefix("000099"))
    }

    @Test func simulatorTable() {
        #expect(SMSCBehaviour.forDestination("85291234901") == .reject(.throttled))
        #expect(SMSCBehaviour.forDestination("85291234903") == .silence)
        #expect(SMSCBehaviour.forDestination("85291234666") == .accept(receipt: .undeliverable))
        #expect(SMSCBehaviour.forDestination("85291234567") == .accept(receipt: .delivered))
    }
}
