import PetrelCore
import PetrelSMPP
import PetrelStore
import Testing

@testable import PetrelDelivery

/// The SMPP channel's decisions without sockets or timers: the test plays the channel, taking the machine's actions
/// and feeding answers back, with the time in its own hands.
@Suite struct SubmitSchedulerTests {
    typealias Machine = SubmitScheduler<Int64>

    /// Plays the channel: records what the machine asks for. Replies are the message ids.
    struct Harness {
        var m: Machine
        var now: Int64 = 1_000_000
        var submits: [(session: Int, token: UInt64, to: String)] = []
        var reports: [(id: Int64, outcome: SubmitOutcome)] = []
        var timers: [(timer: Machine.Timer, atMs: Int64)] = []
        var connects: [Int] = []
        var unbinds: [Int] = []
        var stopped = false

        init(sessions: Int = 1, window: Int = 10, tps: Double = 0, maxBinds: Int = 0) {
            var c = SMPPChannelConfiguration(id: "c1", host: "h", port: 1, systemID: "s", password: "p")
            c.sessions = sessions
            c.window = window
            c.tps = tps
            c.maxBinds = maxBinds
            c.defaultSender = "Petrel"
            m = Machine(configuration: c, nowMs: now)
        }

        /// Takes every action the machine has now.
        mutating func run() {
            while let action = m.next(nowMs: now) {
                switch action {
                case .submit(let s): submits.append((s.session, s.token, s.message.destination.address))
                case .report(let r): reports.append((r.reply, r.outcome))
                case .connect(let i): connects.append(i)
                case .unbind(let i): unbinds.append(i)
                case .schedule(let timer, let at): timers.append((timer, at))
                case .stopped: stopped = true
                }
            }
        }

        /// Starts and binds every session.
        mutating func bindAll() {
            m.start()
            run()
            for i in connects { m.bound(i) }
            run()
        }

        mutating func add(_ messages: Message...) {
            for msg in messages { m.add(msg, skipParts: [], reply: msg.id, nowMs: now) }
            run()
        }

        mutating func answer(_ token: UInt64, _ status: CommandStatus = .ok, id: String = "X") {
            _ = m.submitted(token, .response(status: status, messageID: id), nowMs: now)
            run()
        }

        /// Fires the timers due by `now`, in order.
        mutating func advance(to t: Int64) {
            now = t
            while let i = timers.firstIndex(where: { $0.atMs <= now }) {
                let timer = timers.remove(at: i).timer
                m.timerFired(timer, nowMs: now)
                run()
            }
        }

        var sentTo: [String] { submits.map(\.to) }
    }

    static func msg(
        _ id: Int64,
        _ priority: Priority = .normal,
        text: String = "hi",
        expiresAtMs: Int64? = nil
    ) -> Message {
        Message(
            id: id,
            account: "a",
            to: "6591234\(id)",
            text: text,
            priority: priority,
            createdAtMs: 0,
            expiresAtMs: expiresAtMs
        )
    }

    @Test func urgentGoesBeforeBulkAndEachPriorityIsFirstInFirstOut() {
        var h = Harness(window: 1)
        h.add(Self.msg(1, .bulk), Self.msg(2, .bulk), Self.msg(3, .normal), Self.msg(4, .urgent))
        #expect(h.submits.isEmpty)  // nothing bound yet
        h.bindAll()
        #expect(h.sentTo == ["65912344"])
        // Never ahead of what is in flight: an OTP added now goes after the one on the wire, before the rest.
        h.add(Self.msg(5, .urgent))
        for _ in 0..<4 { h.answer(h.submits[h.submits.count - 1].token) }
        #expect(h.sentTo == ["65912344", "65912345", "65912343", "65912341", "65912342"])
    }

    @Test func theWindowBoundsWhatIsInFlight() {
        var h = Harness(window: 2)
        h.bindAll()
        #expect(h.m.capacity == 2 + 3 * 2)
        h.add(Self.msg(1), Self.msg(2), Self.msg(3))
        #expect(h.submits.count == 2)  // window full
        #expect(h.m.inFlightCount == 2)
        #expect(h.m.capacity == 0 + 3 * 2 - 1)  // one waiting
        h.answer(h.submits[0].token, id: "A1")
        #expect(h.submits.count == 3)  // the freed slot went to the third
        guard case .sent(let record, nil)? = h.reports.first?.outcome else {
            Issue.record("not sent: \(h.reports)")
            return
        }
        #expect(h.reports.map(\.id) == [1])
        #expect(record.carrierMessageId == "A1" && record.channel == "c1" && record.sentAtMs == h.now)
        #expect(record.parts == [PartRecord(part: 1, total: 1, carrierId: "A1")])
    }

    @Test func sessionsTakeTurns() {
        var h = Harness(sessions: 2, window: 5)
        h.bindAll()
        h.add(Self.msg(1), Self.msg(2), Self.msg(3), Self.msg(4))
        #expect(h.submits.map(\.session) == [0, 1, 0, 1])
    }

    @Test func throttledPartsPauseTheChannelWithAGrowingBackOff() {
        var h = Harness(window: 1)
        h.bindAll()
        h.add(Self.msg(1), Self.msg(2))
        h.answer(h.submits[0].token, .throttled)
        #expect(h.reports.isEmpty)  // not an outcome: it waits and goes again
        #expect(h.submits.count == 1)  // paused: message 2 waits too
        #expect(h.timers.last?.timer == .pump && h.timers.last?.atMs == h.now + 200)
        #expect(h.m.throttledUntilMs == h.now + 200)  // what a message's page says it waits for
        h.advance(to: h.now + 199)
        #expect(h.submits.count == 1)
        h.advance(to: h.now + 1)
        #expect(h.sentTo == ["65912341", "65912341"])  // the same part first, once the pause is over
        h.answer(h.submits[1].token, .throttled)  // a second throttle in a row pauses twice as long
        #expect(h.timers.last?.atMs == h.now + 400)
        h.advance(to: h.now + 400)
        h.answer(h.submits[2].token)
        #expect(h.reports.map(\.id) == [1])
        #expect(h.sentTo.last == "65912342")  // resumed
        h.answer(h.submits[3].token, .throttled)  // an accepted submit reset the back-off
        #expect(h.timers.last?.atMs == h.now + 200)
    }

    @Test func aPartThrottledOverAndOverGoesBackToTheDispatcher() {
        var h = Harness(window: 1)
        h.bindAll()
        h.add(Self.msg(1))
        for _ in 0...Machine.maxThrottles {
            h.answer(h.submits[h.submits.count - 1].token, .throttled)
            h.advance(to: h.now + Machine.maxThrottlePauseMs)
        }
        #expect(h.submits.count == Machine.maxThrottles + 1)
        let reason = "throttled by the carrier 21 times in a row (ESME_RTHROTTLED, command_status 0x00000058)"
        #expect(h.reports.map(\.outcome) == [.retry(afterMs: Machine.carrierRetryMs, accepted: [], reason: reason)])
        #expect(h.m.health.refused == Machine.maxThrottles + 1)
    }

    @Test func theTokenBucketAllowsItsBurstThenItsRate() {
        var h = Harness(window: 10_000, tps: 100)
        h.bindAll()
        h.add(contentsOf: (1...300).map { Self.msg($0) })
        #expect(h.submits.count == 10)  // the burst: a tenth of a second's worth
        let start = h.now
        for t in stride(from: start, through: start + 1000, by: 1) { h.advance(to: t) }
        // One second at 100 per second, after the burst; never more.
        #expect(h.submits.count >= 10 + 99 && h.submits.count <= 10 + 100)
        // Nodes share the rate: with 2 live nodes, this one takes half.
        h.m.setNodes(2, nowMs: h.now)
        let before = h.submits.count
        for t in stride(from: h.now + 1, through: h.now + 2000, by: 1) { h.advance(to: t) }
        #expect(h.submits.count - before >= 99 && h.submits.count - before <= 5 + 100)
    }

    /// The `petrel_smpp_channel_problem` gauge: the kind of the last failure while no session is bound.
    @Test func theChannelProblemNamesTheLastFailureUntilABind() {
        var h = Harness(sessions: 2)
        h.m.start()
        h.run()
        #expect(h.m.health.problem == .none)
        h.m.connectFailed(0, error: "the SMSC refused the connection", nowMs: h.now, jitter: 1)
        #expect(h.m.health.problem == .connectFailed)
        h.m.bound(1)
        h.m.closed(
            1,
            reason: "TLS: host name mismatch: the certificate of the SMSC is not for x",
            nowMs: h.now,
            jitter: 1
        )
        #expect(h.m.health.problem == .tlsHostName)
        h.run()
        h.advance(to: h.now + 1000)
        h.m.bound(0)
        #expect(h.m.health.problem == .none)
        // Another session failing while one is bound is not the channel's problem.
        h.m.closed(1, reason: "TLS: certificate not trusted: …", nowMs: h.now, jitter: 1)
        #expect(h.m.health.problem == .none && h.m.health.lastError.hasSuffix("TLS: certificate not trusted: …"))
        h.m.closed(0, reason: "bind refused: ESME_RINVPASWD", nowMs: h.now, jitter: 1)
        #expect(h.m.health.problem == .bindRefused)
        #expect(LinkProblem.of("TLS: the handshake with the SMSC failed (X)", connecting: false) == .tls)
        #expect(LinkProblem.of("connection lost", connecting: false) == .sessionClosed)
    }

    @Test func reconnectsBackOffAndBindRefusalsWaitLongest() {
        var h = Harness()
        h.m.start()
        h.run()
        #expect(h.connects == [0])
        h.m.connectFailed(0, error: "refused", nowMs: h.now, jitter: 1)
        h.run()
        #expect(h.timers.last?.timer == .reconnect(session: 0) && h.timers.last?.atMs == h.now + 500)
        h.advance(to: h.now + 500)
        #expect(h.connects == [0, 0])
        h.m.connectFailed(0, error: "refused", nowMs: h.now, jitter: 0)  // doubled, the least jitter: half of it
        h.run()
        #expect(h.timers.last?.atMs == h.now + 500)
        #expect(h.m.health.connectFailures == 2 && h.m.health.lastError == "connect failed: refused")
        h.advance(to: h.now + 500)
        h.m.bound(0)
        h.m.closed(0, reason: "peer reset", nowMs: h.now, jitter: 1)  // bound: the back-off starts over
        h.run()
        #expect(h.timers.last?.atMs == h.now + 500)
        #expect(h.m.health.sessionsClosed == 1)
        h.advance(to: h.now + 500)
        h.m.bindRejected(0)
        h.m.closed(0, reason: "bind refused", nowMs: h.now, jitter: 1)
        h.run()
        #expect(h.timers.last?.atMs == h.now + 30_000)  // the longest
        h.advance(to: h.now + 30_000)
        #expect(h.connects.count == 5)
    }

    @Test func bindSlotsParkAndWakeSessions() {
        var h = Harness(sessions: 2, maxBinds: 2)
        h.m.start()
        h.run()
        #expect(h.connects.isEmpty)  // no slot held yet
        let gained = h.allow(1)
        #expect(gained)
        h.run()
        #expect(h.connects == [0])
        h.m.bound(0)
        let both = h.allow(2)
        #expect(both)
        h.run()
        #expect(h.connects == [0, 1])
        h.m.bound(1)
        let lost = h.allow(1)  // the slot of session 1 was lost: it unbinds
        #expect(lost)
        h.run()
        #expect(h.unbinds == [1])
        #expect(h.m.boundTransmitters == 1)
        h.m.closed(1, reason: "unbound", nowMs: h.now, jitter: 1)
        h.run()
        h.advance(to: h.now + 60_000)
        #expect(h.connects == [0, 1])  // parked, not reconnected
    }

    @Test func aSessionDroppingWithPartsInFlightLosesNone() {
        var h = Harness(sessions: 2, window: 1)
        h.bindAll()
        let long = String(repeating: "a", count: 200)  // two parts
        h.add(Self.msg(1, text: long), Self.msg(2))
        #expect(h.submits.map(\.session) == [0, 1])  // part 1 on session 0, part 2 on session 1
        h.answer(h.submits[0].token, id: "P1")  // part 1 accepted; message 2 goes on session 0
        #expect(h.submits.count == 3 && h.submits[2].session == 0)
        // Session 1 drops without answering (the ESME machine reports `.noResponse` first; the scheduler does not
        // rely on it).
        h.m.closed(1, reason: "connection lost", nowMs: h.now, jitter: 0)
        h.run()
        #expect(h.reports.map(\.id) == [1])
        let part1 = PartRecord(part: 1, total: 2, carrierId: "P1")
        #expect(
            h.reports.first?.outcome == .retry(afterMs: 1000, accepted: [part1], reason: "no submit_sm_resp in time")
        )
        #expect(h.m.inFlightCount == 1 && h.m.boundTransmitters == 1)
        #expect(h.timers.contains { $0.timer == .reconnect(session: 1) })
        // A late answer for the lost part changes nothing.
        let late = h.m.submitted(h.submits[1].token, .response(status: .ok, messageID: "late"), nowMs: h.now)
        #expect(late == nil)
        h.answer(h.submits[2].token)
        #expect(h.reports.map(\.id) == [1, 2])
    }

    @Test func noAnswerMeansRetryLater() {
        var h = Harness()
        h.bindAll()
        h.add(Self.msg(1))
        _ = h.m.submitted(h.submits[0].token, .noResponse, nowMs: h.now)
        h.run()
        #expect(h.reports.map(\.outcome) == [.retry(afterMs: 1000, accepted: [], reason: "no submit_sm_resp in time")])
        #expect(h.m.health.noResponse == 1)
    }

    @Test func refusalsFailOrReroute() {
        var h = Harness()
        h.bindAll()
        h.add(Self.msg(1), Self.msg(2), Self.msg(3))
        h.answer(h.submits[0].token, .invalidDestinationAddress)
        h.answer(h.submits[1].token, .invalidSourceAddress)
        h.answer(h.submits[2].token, .systemError)
        let refused = "The carrier refused the message: "
        #expect(
            h.reports.map(\.outcome) == [
                .failed(code: "ESME_RINVDSTADR", description: refused + "ESME_RINVDSTADR", reroute: true, accepted: []),
                .failed(
                    code: "ESME_RINVSRCADR",
                    description: refused + "ESME_RINVSRCADR",
                    reroute: false,
                    accepted: []
                ),
                .retry(
                    afterMs: Machine.carrierRetryMs,
                    accepted: [],
                    reason: "the carrier refused it for now (ESME_RSYSERR, command_status 0x00000008)"
                ),
            ]
        )
    }

    @Test func expiredMessagesAreNeverSent() {
        var h = Harness(window: 1)
        h.bindAll()
        h.add(Self.msg(1), Self.msg(2, expiresAtMs: h.now + 10), Self.msg(3))
        h.now += 10
        h.answer(h.submits[0].token)
        #expect(h.reports.map(\.id) == [1, 2])
        #expect(h.reports[1].outcome == .expired)
        #expect(h.sentTo == ["65912341", "65912343"])
    }

    @Test func partsAcceptedBeforeAreSkipped() {
        var h = Harness()
        h.bindAll()
        let long = Self.msg(1, text: String(repeating: "a", count: 200))
        h.m.add(long, skipParts: [1], reply: 1, nowMs: h.now)
        h.run()
        #expect(h.submits.count == 1)
        h.m.add(Self.msg(2, text: String(repeating: "b", count: 200)), skipParts: [1, 2], reply: 2, nowMs: h.now)
        h.run()
        #expect(h.reports.map(\.id) == [2])  // nothing left to send: done at once
    }

    @Test func aPartTheSessionCannotWrite() {
        var h = Harness(sessions: 2)
        h.bindAll()
        h.add(Self.msg(1))
        // Session 0 stopped being bound before the machine heard: the part goes again on session 1.
        h.m.notWritten(h.submits[0].token, unencodable: nil, nowMs: h.now)
        h.run()
        #expect(h.submits.map(\.session) == [0, 1])
        #expect(h.m.boundTransmitters == 1)
        h.m.notWritten(h.submits[1].token, unencodable: "destination too long", nowMs: h.now)
        h.run()
        let reason = "The message cannot be encoded for SMPP: destination too long"
        #expect(
            h.reports.map(\.outcome) == [
                .failed(code: MessageParts.Problem.code, description: reason, reroute: true, accepted: [])
            ]
        )
    }

    @Test func shutdownDrainsTheWindowsThenReportsWhatIsLeft() {
        var h = Harness(window: 2)
        h.bindAll()
        h.add(Self.msg(1), Self.msg(2), Self.msg(3), Self.msg(4))
        h.m.shutdown(nowMs: h.now)
        h.run()
        #expect(h.timers.last?.timer == .drainDeadline && h.timers.last?.atMs == h.now + Machine.drainMs)
        h.answer(h.submits[0].token)  // the drain still sends what is queued
        #expect(h.submits.count == 3)
        #expect(!h.stopped)
        h.advance(to: h.now + Machine.drainMs)  // two in flight, one queued at the deadline
        #expect(h.stopped && h.unbinds == [0])
        #expect(h.reports.map(\.id).sorted() == [1, 2, 3, 4])
        #expect(
            h.reports.dropFirst().allSatisfy {
                guard case .retry(1000, [], let reason) = $0.outcome else { return false }
                return reason.hasPrefix("the channel shut down before")
            }
        )
        #expect(h.m.inFlightCount == 0 && h.m.queuedCount == 0)
        // Handed over after the drain (a reroute): reported at once, not lost.
        h.add(Self.msg(5))
        #expect(h.reports.last?.id == 5 && h.submits.count == 3)
        h.m.closed(0, reason: "unbound", nowMs: h.now, jitter: 0)
        h.run()
        #expect(!h.timers.contains { $0.timer == .reconnect(session: 0) })
    }

    @Test func shutdownStopsAtOnceWhenTheWindowsAreEmpty() {
        var h = Harness()
        h.bindAll()
        h.add(Self.msg(1))
        h.answer(h.submits[0].token)
        h.m.shutdown(nowMs: h.now)
        h.run()
        #expect(h.stopped && h.unbinds == [0] && h.reports.count == 1)
    }

    @Test func theSubmitCarriesTheMessage() {
        let config = SMPPChannelConfiguration(id: "c", host: "h", port: 1, systemID: "s", password: "p")
        let m = Machine(configuration: config, nowMs: 0)
        guard let part = try? MessageParts.make("é", mode: .udh, reference: 1).first else {
            Issue.record("no part")
            return
        }
        var numeric = Self.msg(1, expiresAtMs: 61_000)
        numeric.from = "12345"
        let sm = m.shortMessage(numeric, part, 1000)
        #expect(sm.source == Address(ton: 1, npi: 1, address: "12345"))
        #expect(sm.destination.address == "65912341")
        #expect(sm.esmClass == part.esmClass && sm.dataCoding == part.dataCoding)
        #expect(sm.shortMessage == part.shortMessage && sm.registeredDelivery == 1)
        #expect(sm.validityPeriod == MessageParts.relativeValidity(seconds: 60))
        numeric.from = "Shop"
        #expect(m.shortMessage(numeric, part, 1000).source == Address(ton: 5, npi: 0, address: "Shop"))
    }
}

extension SubmitSchedulerTests.Harness {
    mutating func allow(_ n: Int) -> Bool {
        m.setAllowedSessions(n)
    }

    mutating func add(contentsOf messages: [Message]) {
        for msg in messages { m.add(msg, skipParts: [], reply: msg.id, nowMs: now) }
        run()
    }
}
