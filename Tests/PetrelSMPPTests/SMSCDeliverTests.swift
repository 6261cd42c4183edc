import NIOCore
import Testing

@testable import PetrelSMPP

/// Receipts going out to an ESME as deliver_sm: the session's outbound window and its answers.
@Suite struct SMSCDeliverTests {
    let config = SMSCSessionStateMachine.Configuration(window: 2, idleMs: 1000, bindTimeoutMs: 500, maxStrikes: 3)

    func bound(_ mode: BindMode) -> SMSCSessionStateMachine {
        var m = SMSCSessionStateMachine(configuration: config, nowMs: 0)
        _ = m.received(.pdu(PDU(.bind(Bind(mode: mode, systemID: "crm", password: "pw")), sequence: 1)), nowMs: 1)
        _ = m.bindDecided(.ok, systemID: "petrel")
        return m
    }

    let receipt = DeliveryReceipt(messageID: "42", state: .delivered, error: "000").deliverSm(
        handset: "85291234567",
        sender: "Petrel",
        submittedAtMs: 1_796_947_200_000,
        doneAtMs: 1_796_947_260_000,
        text: "Grüße, long text that goes on"
    )

    @Test func receiptsAreWindowedAndEachAnswerNamesItsToken() {
        var m = bound(.transceiver)
        #expect(m.deliver(receipt, token: 10) == [.send(PDU(.deliverSm(receipt), sequence: 1))])
        #expect(m.deliver(receipt, token: 11) == [.send(PDU(.deliverSm(receipt), sequence: 2))])
        // A full window refuses at once instead of queueing in the session.
        #expect(m.deliver(receipt, token: 12) == [.delivered(token: 12, status: .throttled)])
        #expect(m.outbound == 2)
        let ok = PDU(.deliverSmResp(messageID: ""), sequence: 2)
        #expect(m.received(.pdu(ok), nowMs: 5) == [.delivered(token: 11, status: .ok)])
        // An answer twice, or to nothing sent, is nothing.
        #expect(m.received(.pdu(ok), nowMs: 6) == [])
        let refused = PDU(.deliverSmResp(messageID: ""), sequence: 1, status: .systemError)
        #expect(m.received(.pdu(refused), nowMs: 7) == [.delivered(token: 10, status: .systemError)])
        #expect(m.outbound == 0)
        #expect(m.deliver(receipt, token: 13) == [.send(PDU(.deliverSm(receipt), sequence: 3))])
        let nack = PDU(.genericNack, sequence: 3, status: .invalidCommandID)
        #expect(m.received(.pdu(nack), nowMs: 8) == [.delivered(token: 13, status: .invalidCommandID)])
    }

    @Test func aTransmitterGetsNoReceipts() {
        var m = bound(.transmitter)
        #expect(m.deliver(receipt, token: 1) == [.delivered(token: 1, status: .incorrectBindStatus)])
        var unbound = SMSCSessionStateMachine(configuration: config, nowMs: 0)
        #expect(unbound.deliver(receipt, token: 2) == [.delivered(token: 2, status: .incorrectBindStatus)])
    }

    @Test func theReceiptReadsBackAsItself() throws {
        #expect(receipt.esmClass == 0x04)
        let text = String(decoding: receipt.shortMessage, as: UTF8.self)
        #expect(
            text
                == "id:42 sub:001 dlvrd:001 submit date:2612110000 done date:2612110001 stat:DELIVRD err:000 text:Gr??e, long text tha"
        )
        let parsed = try #require(DeliveryReceipt.parse(tlvs: receipt.tlvs, text: receipt.shortMessage))
        #expect(parsed == DeliveryReceipt(messageID: "42", state: .delivered, error: "000"))
        // A longer address than SMPP's 21 octets is cut, so the PDU always encodes.
        let long = DeliveryReceipt(messageID: "1", state: .undeliverable).deliverSm(
            handset: String(repeating: "9", count: 40),
            sender: "S",
            submittedAtMs: 0,
            doneAtMs: 0,
            text: ""
        )
        var buffer = ByteBuffer()
        try PDU(.deliverSm(long), sequence: 1).encode(into: &buffer)
        #expect(long.tlvs[tag: TLV.Tag.messageState]?.uint8Value == 5)
    }
}
