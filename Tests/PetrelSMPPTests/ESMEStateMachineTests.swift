import Testing

@testable import PetrelSMPP

@Suite struct ESMEStateMachineTests {
    func bound(window: Int = 2) -> ESMEStateMachine {
        var m = ESMEStateMachine(
            configuration: .init(
                bind: Bind(mode: .transceiver, systemID: "p", password: "s"),
                window: window,
                responseTimeoutMs: 1000,
                enquireLinkIntervalMs: 5000
            )
        )
        let actions = m.connected(nowMs: 0)
        guard case .send(let bind)? = actions.first else {
            Issue.record("no bind")
            return m
        }
        #expect(bind.commandID == .bindTransceiver && bind.sequence == 1)
        #expect(
            m.received(.pdu(PDU(.bindResp(BindResp(mode: .transceiver, systemID: "s")), sequence: 1)), nowMs: 1) == [
                .bound
            ]
        )
        return m
    }

    @Test func bindRefused() {
        var m = ESMEStateMachine(configuration: .init(bind: Bind(mode: .transmitter, systemID: "p", password: "x")))
        _ = m.connected(nowMs: 0)
        let actions = m.received(
            .pdu(PDU(.bindResp(BindResp(mode: .transmitter, systemID: "")), sequence: 1, status: .invalidPassword)),
            nowMs: 1
        )
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

    /// Issue 20 F11: an enquire_link_resp carrying a submit's sequence number dropped the pending submit but
    /// kept its window slot, so a hostile SMSC could shut the window for good.
    @Test func responseOfTheWrongTypeIsAProtocolError() {
        var m = bound(window: 2)
        _ = m.submit(ShortMessage(), token: 1, nowMs: 2)  // sequence 2
        _ = m.submit(ShortMessage(), token: 2, nowMs: 2)  // sequence 3
        let actions = m.received(.pdu(PDU(.enquireLinkResp, sequence: 2)), nowMs: 3)
        #expect(
            actions == [
                .submitted(token: 1, .noResponse), .submitted(token: 2, .noResponse),
                .close(reason: "enquireLinkResp answered request 2 of another type"),
            ]
        )
        #expect(m.state == .closed)
        #expect(m.inFlight == 0)
    }

    @Test func submitResponseToAnEnquireLinkClosesTheSession() {
        var m = bound(window: 2)
        guard case .send(let ping)? = m.tick(nowMs: 6000).first else {
            Issue.record("no enquire_link")
            return
        }
        _ = m.submit(ShortMessage(), token: 5, nowMs: 6000)
        let actions = m.received(.pdu(PDU(.submitSmResp(messageID: "X"), sequence: ping.sequence)), nowMs: 6001)
        #expect(actions.first == .submitted(token: 5, .noResponse))
        #expect(actions.last.map { if case .close = $0 { true } else { false } } == true)
        #expect(m.inFlight == 0)
    }

    @Test func unreadableResponseOfTheWrongTypeClosesTheSession() {
        var m = bound(window: 2)
        _ = m.submit(ShortMessage(), token: 1, nowMs: 2)  // sequence 2
        let error = SMPPBodyError(status: .invalidCommandLength, reason: "x")
        let actions = m.received(
            .malformed(commandID: CommandID.dataSmResp.rawValue, sequence: 2, error: error),
            nowMs: 3
        )
        #expect(actions.first == .submitted(token: 1, .noResponse))
        #expect(m.state == .closed && m.inFlight == 0)
        // The right type, unreadable, still answers its request.
        var n = bound(window: 2)
        _ = n.submit(ShortMessage(), token: 1, nowMs: 2)
        let answered = n.received(
            .malformed(commandID: CommandID.submitSmResp.rawValue, sequence: 2, error: error),
            nowMs: 3
        )
        #expect(answered == [.submitted(token: 1, .response(status: .invalidCommandLength, messageID: ""))])
        #expect(n.state == .bound && n.windowFree == 2)
    }

    /// Whatever a peer answers, every submit ends exactly once and the window counts exactly the unanswered ones.
    @Test func windowAccountingNeverLeaks() {
        var random = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            var m = bound(window: 4)
            var open: Set<UInt64> = []
            var token: UInt64 = 0
            var now: Int64 = 2
            for _ in 0..<60 {
                now += Int64.random(in: 0...400, using: &random)
                var actions: [ESMEStateMachine.Action] = []
                let seq = UInt32.random(in: 1...12, using: &random)
                switch Int.random(in: 0..<7, using: &random) {
                case 0, 1:
                    token += 1
                    if case .send? = m.submit(ShortMessage(), token: token, nowMs: now) { open.insert(token) }
                case 2: actions = m.received(.pdu(PDU(.submitSmResp(messageID: "x"), sequence: seq)), nowMs: now)
                case 3: actions = m.received(.pdu(PDU(.enquireLinkResp, sequence: seq)), nowMs: now)
                case 4: actions = m.received(.pdu(PDU(.genericNack, sequence: seq, status: .throttled)), nowMs: now)
                case 5: actions = m.received(.pdu(PDU(.deliverSmResp(messageID: ""), sequence: seq)), nowMs: now)
                default: actions = m.tick(nowMs: now)
                }
                for case .submitted(let t, _) in actions {
                    #expect(open.remove(t) != nil, "token \(t) ended twice")
                }
                #expect(m.inFlight == open.count)
                if m.state == .closed { break }
            }
        }
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
        guard case .send(let pdu)? = ping.first, pdu.commandID == .enquireLink else {
            Issue.record("no enquire_link")
            return
        }
        #expect(m.tick(nowMs: 6500).isEmpty)
        let dead = m.tick(nowMs: 7100)
        #expect(dead.last == .close(reason: "no answer to enquire_link"))
    }

    @Test func answersTheSMSC() {
        var m = bound()
        #expect(
            m.received(.pdu(PDU(.enquireLink, sequence: 40)), nowMs: 5) == [.send(PDU(.enquireLinkResp, sequence: 40))]
        )
        let receipt = PDU(.deliverSm(ShortMessage(esmClass: 4)), sequence: 41)
        #expect(m.received(.pdu(receipt), nowMs: 5) == [.deliver(receipt)])
        #expect(m.respond(to: receipt, status: .ok) == .send(PDU(.deliverSmResp(messageID: ""), sequence: 41)))
        let bad = m.received(
            .malformed(commandID: 0x99, sequence: 42, error: SMPPBodyError(status: .invalidCommandID, reason: "")),
            nowMs: 5
        )
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
        guard case .send(let unbind)? = m.unbind(nowMs: 6).first else {
            Issue.record("no unbind")
            return
        }
        #expect(
            m.received(.pdu(PDU(.submitSmResp(messageID: "A"), sequence: 2)), nowMs: 7) == [
                .submitted(token: 1, .response(status: .ok, messageID: "A"))
            ]
        )
        #expect(m.received(.pdu(PDU(.unbindResp, sequence: unbind.sequence)), nowMs: 8) == [.close(reason: "unbound")])
    }
}
