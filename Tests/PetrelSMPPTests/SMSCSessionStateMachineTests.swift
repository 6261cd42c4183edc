import Testing

@testable import PetrelSMPP

/// The server side of an ESME's session: binds, window, idle and abuse, all without sockets.
@Suite struct SMSCSessionStateMachineTests {
    let config = SMSCSessionStateMachine.Configuration(window: 2, idleMs: 1000, bindTimeoutMs: 500, maxStrikes: 3)
    let bindPDU = PDU(.bind(Bind(mode: .transceiver, systemID: "crm", password: "pw")), sequence: 7)

    func bound() -> SMSCSessionStateMachine {
        var m = SMSCSessionStateMachine(configuration: config, nowMs: 0)
        #expect(
            m.received(.pdu(bindPDU), nowMs: 1) == [
                .authenticate(Bind(mode: .transceiver, systemID: "crm", password: "pw"))
            ]
        )
        let actions = m.bindDecided(.ok, systemID: "petrel")
        #expect(actions == [.send(PDU(.bindResp(BindResp(mode: .transceiver, systemID: "petrel")), sequence: 7))])
        return m
    }

    func submit(_ seq: UInt32) -> SMPPFrame {
        .pdu(PDU(.submitSm(ShortMessage(destination: .international("85291234567"))), sequence: seq))
    }

    @Test func refusedBindIsAnsweredAndClosed() {
        var m = SMSCSessionStateMachine(configuration: config, nowMs: 0)
        _ = m.received(.pdu(bindPDU), nowMs: 1)
        let actions = m.bindDecided(.bindFailed, systemID: "petrel")
        #expect(
            actions.first
                == .send(
                    PDU(.bindResp(BindResp(mode: .transceiver, systemID: "petrel")), sequence: 7, status: .bindFailed)
                )
        )
        guard case .close = actions.last else { return #expect(Bool(false), "not closed") }
        #expect(m.state == .closed)
    }

    @Test func secondBindIsAlreadyBound() {
        var m = bound()
        let again = m.received(.pdu(PDU(bindPDU.body, sequence: 8)), nowMs: 2)
        #expect(
            again == [
                .send(PDU(.bindResp(BindResp(mode: .transceiver, systemID: "")), sequence: 8, status: .alreadyBound))
            ]
        )
    }

    @Test func submitBeforeBindOrOnAReceiverIsRefused() {
        var m = SMSCSessionStateMachine(configuration: config, nowMs: 0)
        #expect(
            m.received(submit(3), nowMs: 1) == [
                .send(PDU(.submitSmResp(messageID: ""), sequence: 3, status: .incorrectBindStatus))
            ]
        )
        _ = m.received(.pdu(PDU(.bind(Bind(mode: .receiver, systemID: "crm", password: "pw")), sequence: 4)), nowMs: 1)
        _ = m.bindDecided(.ok, systemID: "petrel")
        #expect(
            m.received(submit(5), nowMs: 2) == [
                .send(PDU(.submitSmResp(messageID: ""), sequence: 5, status: .incorrectBindStatus))
            ]
        )
    }

    @Test func windowIsKeptAndAnsweredThrottled() {
        var m = bound()
        guard case .submit(let first, let submission)? = m.received(submit(3), nowMs: 2).first,
            case .submit(_, _)? = m.received(submit(4), nowMs: 2).first
        else { return #expect(Bool(false), "submits not handed on") }
        #expect(submission.to == "85291234567" && submission.parts == 1)
        #expect(
            m.received(submit(5), nowMs: 2) == [
                .send(PDU(.submitSmResp(messageID: ""), sequence: 5, status: .throttled))
            ]
        )
        #expect(
            m.submitDecided(token: first, status: .ok, messageID: "42") == [
                .send(PDU(.submitSmResp(messageID: "42"), sequence: 3))
            ]
        )
        #expect(m.submitDecided(token: first, status: .ok, messageID: "42") == [], "decided once")
        guard case .submit? = m.received(submit(6), nowMs: 3).first else {
            return #expect(Bool(false), "the freed slot was not used")
        }
    }

    func part(_ seq: UInt32, ref: UInt8, of total: UInt8, number: UInt8, _ text: String) -> SMPPFrame {
        .pdu(
            PDU(
                .submitSm(
                    ShortMessage(
                        destination: .international("85291234567"),
                        esmClass: 0x40,
                        registeredDelivery: number == 1 ? 1 : 0,
                        shortMessage: [5, 0, 3, ref, total, number] + Array(text.utf8)
                    )
                ),
                sequence: seq
            )
        )
    }

    @Test func concatenatedPartsAreOneMessageAnsweredTogether() {
        var m = SMSCSessionStateMachine(
            configuration: .init(window: 4, idleMs: 10_000, bindTimeoutMs: 5000, partTimeoutMs: 1000),
            nowMs: 0
        )
        _ = m.received(.pdu(bindPDU), nowMs: 1)
        _ = m.bindDecided(.ok, systemID: "petrel")
        #expect(m.received(part(10, ref: 7, of: 2, number: 2, "world"), nowMs: 2) == [])
        guard case .submit(let token, let s)? = m.received(part(11, ref: 7, of: 2, number: 1, "hello "), nowMs: 3).first
        else { return #expect(Bool(false), "not assembled") }
        #expect(s.text == "hello world" && s.parts == 2 && s.registeredDelivery == 1)
        #expect(
            m.submitDecided(token: token, status: .ok, messageID: "9") == [
                .send(PDU(.submitSmResp(messageID: "9"), sequence: 10)),
                .send(PDU(.submitSmResp(messageID: "9"), sequence: 11)),
            ]
        )
        // A part whose sibling never comes is refused after partTimeoutMs, and its slot is free again.
        #expect(m.received(part(12, ref: 8, of: 2, number: 1, "lonely"), nowMs: 4) == [])
        #expect(m.inFlight == 1)
        #expect(m.tick(nowMs: 500) == [])
        #expect(
            m.tick(nowMs: 1004) == [.send(PDU(.submitSmResp(messageID: ""), sequence: 12, status: .submitFailed))]
        )
        #expect(m.inFlight == 0)
    }

    @Test func floodPastTheWindowCloses() {
        var m = bound()
        _ = m.received(submit(1), nowMs: 2)
        _ = m.received(submit(2), nowMs: 2)
        var closed = false
        for seq in 3..<20 as Range<UInt32> {
            if case .close = m.received(submit(seq), nowMs: 2).last {
                closed = true
                break
            }
        }
        #expect(closed)
        #expect(m.state == .closed)
    }

    @Test func garbageGetsNacksThenClose() {
        var m = bound()
        let bad = SMPPFrame.malformed(
            commandID: 0x77,
            sequence: 9,
            error: SMPPBodyError(status: .invalidCommandID, reason: "unknown")
        )
        #expect(m.received(bad, nowMs: 2) == [.send(PDU(.genericNack, sequence: 9, status: .invalidCommandID))])
        #expect(m.received(bad, nowMs: 2).count == 1)
        guard case .close = m.received(bad, nowMs: 2).last else { return #expect(Bool(false), "not closed") }
    }

    @Test func requestsPetrelDoesNotServeAreNackedWithoutStrikes() {
        var m = bound()
        let querySm = SMPPFrame.malformed(
            commandID: 0x03,
            sequence: 4,
            error: SMPPBodyError(status: .invalidCommandID, reason: "unknown command id 0x3")
        )
        for _ in 0..<20 {
            #expect(m.received(querySm, nowMs: 2) == [.send(PDU(.genericNack, sequence: 4, status: .invalidCommandID))])
        }
        #expect(m.state != .closed)
    }

    @Test func enquireLinkUnbindAndFramingError() {
        var m = bound()
        #expect(
            m.received(.pdu(PDU(.enquireLink, sequence: 11)), nowMs: 2) == [.send(PDU(.enquireLinkResp, sequence: 11))]
        )
        let unbind = m.received(.pdu(PDU(.unbind, sequence: 12)), nowMs: 3)
        #expect(unbind.first == .send(PDU(.unbindResp, sequence: 12)))
        var other = bound()
        guard case .close = other.framingFailed(SMPPFramingError(commandLength: 0xFFFF_FFFF)).first else {
            return #expect(Bool(false), "not closed")
        }
    }

    @Test func idleAndUnboundSessionsAreClosed() {
        var unbound = SMSCSessionStateMachine(configuration: config, nowMs: 0)
        #expect(unbound.tick(nowMs: 400) == [])
        _ = unbound.received(.pdu(PDU(.enquireLink, sequence: 1)), nowMs: 450)
        guard case .close = unbound.tick(nowMs: 500).first else { return #expect(Bool(false), "bind timeout") }
        var m = bound()
        #expect(m.tick(nowMs: 900) == [])
        _ = m.received(.pdu(PDU(.enquireLink, sequence: 2)), nowMs: 900)
        #expect(m.tick(nowMs: 1800) == [])
        guard case .close = m.tick(nowMs: 1900).first else { return #expect(Bool(false), "idle") }
    }
}
