import Testing

@testable import PetrelSMPP

@Suite struct ESMEStateMachineTests {
    func bound(window: Int = 2) -> ESMEStateMachine {
        var m = ESMEStateMachine(configuration: .init(
            bind: Bind(mode: .transceiver, systemID: "p", password: "s"), window: window, responseTimeoutMs: 1000,
            enquireLinkIntervalMs: 5000))
        let actions = m.connected(nowMs: 0)
        guard case .send(let bind)? = actions.first else { Issue.record("no bind"); return m }
        #expect(bind.commandID == .bindTransceiver && bind.sequence == 1)
        #expect(m.received(.pdu(PDU(.bindResp(BindResp(mode: .transceiver, systemID: "s")), sequence: 1)), nowMs: 1) == [.bound])
        return m
    }

    @Test func bindRefused() {
        var m = ESMEStateMachine(configuration: .init(bind: Bind(mode: .transmitter, systemID: "p", password: "x")))
        _ = m.connected(nowMs: 0)
        let actions = m.received(.pdu(PDU(.bindResp(BindResp(mode: .transmitter, systemID: "")), sequence: 1, status: .invalidPassword)), nowMs: 1)
        #expect(actions.first == .bindRejected(.invalidPassword))
        #expect(m.state == .closed)
    }

    @Test func windowLimitsSubmits() {
        var m = bound(window: 2)
        #expect(m.submit(ShortMessage(), token: 1, nowMs: 2) != nil)
        #expect(m.submit(ShortMessage(), token: 2, nowMs: 2) != nil)
        #expect(m.submit(ShortMessage(), token: 3, nowMs: 2) == nil)
        #expect(m.windowFree == 0)
        let done = m.received(.pdu(PDU(.submitSmResp(messageID: "X1"), sequence: 2)), nowMs: 3)
        #expect(done == [.submitted(token: 1, .response(status: .ok, messageID: "X1"))])
        #expect(m.windowFree == 1)
        let nack = m.received(.pdu(PDU(.genericNack, sequence: 3, status: .throttled)), nowMs: 3)
        #expect(nack == [.submitted(token: 2, .response(status: .throttled, messageID: ""))])
        // A response nobody asked for is ignored.
        #expect(m.received(.pdu(PDU(.submitSmResp(messageID: "?"), sequence: 99)), nowMs: 3).isEmpty)
    }

    @Test func timeoutsAndLostConnections() {
        var m = bound()
        _ = m.submit(ShortMessage(), token: 7, nowMs: 10)
        #expect(m.tick(nowMs: 500).isEmpty)
        #expect(m.tick(nowMs: 1010) == [.submitted(token: 7, .noResponse)])
        _ = m.submit(ShortMessage(), token: 8, nowMs: 2000)
        #expect(m.connectionClosed() == [.submitted(token: 8, .noResponse)])
        #expect(m.windowFree == 0)
    }

    @Test func keepAliveAndDeadLink() {
        var m = bound()
        let ping = m.tick(nowMs: 6000)
        guard case .send(let pdu)? = ping.first, pdu.commandID == .enquireLink else { Issue.record("no enquire_link"); return }
        #expect(m.tick(nowMs: 6500).isEmpty)
        let dead = m.tick(nowMs: 7100)
        #expect(dead.last == .close(reason: "no answer to enquire_link"))
    }

    @Test func answersTheSMSC() {
        var m = bound()
        #expect(m.received(.pdu(PDU(.enquireLink, sequence: 40)), nowMs: 5) == [.send(PDU(.enquireLinkResp, sequence: 40))])
        let receipt = PDU(.deliverSm(ShortMessage(esmClass: 4)), sequence: 41)
        #expect(m.received(.pdu(receipt), nowMs: 5) == [.deliver(receipt)])
        #expect(m.respond(to: receipt, status: .ok) == .send(PDU(.deliverSmResp(messageID: ""), sequence: 41)))
        let bad = m.received(.malformed(commandID: 0x99, sequence: 42, error: SMPPBodyError(status: .invalidCommandID, reason: "")), nowMs: 5)
        #expect(bad == [.send(PDU(.genericNack, sequence: 42, status: .invalidCommandID))])
        _ = m.submit(ShortMessage(), token: 1, nowMs: 5)
        let unbind = m.received(.pdu(PDU(.unbind, sequence: 43)), nowMs: 6)
        #expect(unbind.first == .send(PDU(.unbindResp, sequence: 43)))
        #expect(unbind.contains(.submitted(token: 1, .noResponse)))
        #expect(m.state == .closed)
    }

    @Test func cleanUnbindWaitsForResponses() {
        var m = bound()
        _ = m.submit(ShortMessage(), token: 1, nowMs: 5)
        guard case .send(let unbind)? = m.unbind(nowMs: 6).first else { Issue.record("no unbind"); return }
        #expect(m.received(.pdu(PDU(.submitSmResp(messageID: "A"), sequence: 2)), nowMs: 7) == [.submitted(token: 1, .response(status: .ok, messageID: "A"))])
        #expect(m.received(.pdu(PDU(.unbindResp, sequence: unbind.sequence)), nowMs: 8) == [.close(reason: "unbound")])
    }
}
