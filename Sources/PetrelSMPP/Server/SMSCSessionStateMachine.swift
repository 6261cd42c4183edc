/// The SMSC side of one ESME connection to Petrel's SMPP server, as a pure state machine: every input returns the
/// actions the I/O layer must take. Whatever the ESME sends is input; nothing it chooses can make the session
/// hold more than `window` submits, stay open past the idle time, or keep a stream of garbage going.
///
///     open ──bind──▶ authenticating ──accepted──▶ bound ──unbind / idle / abuse──▶ closed
///                          └──refused──▶ closed
public struct SMSCSessionStateMachine: Sendable {
    public struct Configuration: Sendable {
        /// submit_sm being accepted at once; more are answered ESME_RTHROTTLED.
        public var window: Int
        /// Closed after this long without a PDU from the ESME.
        public var idleMs: Int64
        /// Closed when not bound this long after connecting.
        public var bindTimeoutMs: Int64
        /// Closed after this many malformed PDUs in a row, or this many window overruns in a row beyond `window`.
        public var maxStrikes: Int
        /// Parts of a concatenated submission whose siblings have not all come after this long are refused.
        public var partTimeoutMs: Int64

        public init(
            window: Int = 100,
            idleMs: Int64 = 120_000,
            bindTimeoutMs: Int64 = 30_000,
            maxStrikes: Int = 10,
            partTimeoutMs: Int64 = 60_000
        ) {
            self.window = max(1, window)
            self.idleMs = idleMs
            self.bindTimeoutMs = bindTimeoutMs
            self.maxStrikes = maxStrikes
            self.partTimeoutMs = partTimeoutMs
        }
    }

    public enum State: Sendable, Equatable {
        case open
        case authenticating(sequence: UInt32, Bind)
        case bound(Bind)
        case closed
    }

    public enum Action: Sendable, Equatable {
        case send(PDU)
        /// Check the bind's credentials and limits; answer with `bindDecided`.
        case authenticate(Bind)
        /// Accept a message durably; answer with `submitDecided(token:…)`. A concatenated message comes once, when
        /// its last part has: every part's response waits for it.
        case submit(token: UInt64, Submission)
        case close(reason: String)
        /// The ESME answered the deliver_sm of `deliver(token:…)`: `.ok` when it took it.
        case delivered(token: UInt64, status: CommandStatus)
    }

    public let configuration: Configuration
    public private(set) var state: State = .open
    public private(set) var inFlight = 0
    private var openedAtMs: Int64
    private var lastActivityMs: Int64
    private var malformedInARow = 0
    private var overrunsInARow = 0
    private var assembler: SubmitAssembler
    /// Submissions handed out and not decided, with the requests each answers.
    private var deciding: [UInt64: [SubmitAssembler.Request]] = [:]
    private var nextToken: UInt64 = 1
    /// deliver_sm sent and not answered, by our sequence number: their tokens. At most `window`.
    private var delivering: [UInt32: UInt64] = [:]
    private var nextSequence: UInt32 = 0

    public init(configuration: Configuration, nowMs: Int64) {
        self.configuration = configuration
        self.assembler = SubmitAssembler(timeoutMs: configuration.partTimeoutMs)
        self.openedAtMs = nowMs
        self.lastActivityMs = nowMs
    }

    /// query_sm, replace_sm, cancel_sm, outbind, submit_multi, alert_notification.
    static let unserved: Set<UInt32> = [0x03, 0x07, 0x08, 0x0B, 0x21, 0x102]

    /// deliver_sm the ESME has not answered.
    public var outbound: Int { delivering.count }

    /// Sends `message` as deliver_sm (a receipt); its answer comes as `.delivered(token:…)`. Refused at once
    /// (`.delivered` with ESME_RINVBNDSTS or ESME_RTHROTTLED) when the bind cannot receive or `window` deliver_sm
    /// are unanswered; nothing is answered for a session that closes meanwhile.
    public mutating func deliver(_ message: ShortMessage, token: UInt64) -> [Action] {
        guard let bind, bind.mode.canReceive else { return [.delivered(token: token, status: .incorrectBindStatus)] }
        guard delivering.count < configuration.window else { return [.delivered(token: token, status: .throttled)] }
        nextSequence = nextSequence >= 0x7FFF_FFFF ? 1 : nextSequence + 1
        delivering[nextSequence] = token
        return [.send(PDU(.deliverSm(message), sequence: nextSequence))]
    }

    public var bind: Bind? {
        if case .bound(let b) = state { return b }
        return nil
    }

    public mutating func received(_ frame: SMPPFrame, nowMs: Int64) -> [Action] {
        guard state != .closed else { return [] }
        lastActivityMs = nowMs
        let pdu: PDU
        switch frame {
        case .malformed(let command, let sequence, let error):
            // SMPP 3.4 requests Petrel does not serve (query_sm, replace_sm, cancel_sm, submit_multi…) are an
            // ordinary ESME's, not garbage: answered, never counted against it.
            if Self.unserved.contains(command) {
                return [.send(PDU(.genericNack, sequence: sequence, status: .invalidCommandID))]
            }
            malformedInARow += 1
            if malformedInARow >= configuration.maxStrikes {
                return close("\(malformedInARow) malformed PDUs in a row (last: \(error.reason))")
            }
            // A response we cannot read needs no answer; a request gets generic_nack with what was wrong.
            if command & 0x8000_0000 != 0 { return [] }
            return [.send(PDU(.genericNack, sequence: sequence, status: error.status))]
        case .pdu(let p):
            malformedInARow = 0
            pdu = p
        }
        switch pdu.body {
        case .bind(let b):
            guard state == .open else {
                return [
                    .send(
                        PDU(
                            .bindResp(BindResp(mode: b.mode, systemID: "")),
                            sequence: pdu.sequence,
                            status: .alreadyBound
                        )
                    )
                ]
            }
            state = .authenticating(sequence: pdu.sequence, b)
            return [.authenticate(b)]
        case .submitSm(let m):
            return submit(m, sequence: pdu.sequence, dataSm: false, nowMs: nowMs)
        case .dataSm(let d):
            // data_sm carries its text in message_payload; the rest is submit_sm's envelope.
            let m = ShortMessage(
                serviceType: d.serviceType,
                source: d.source,
                destination: d.destination,
                esmClass: d.esmClass,
                registeredDelivery: d.registeredDelivery,
                dataCoding: d.dataCoding,
                tlvs: d.tlvs
            )
            return submit(m, sequence: pdu.sequence, dataSm: true, nowMs: nowMs)
        case .enquireLink:
            return [.send(PDU(.enquireLinkResp, sequence: pdu.sequence))]
        case .unbind:
            state = .closed
            return [.send(PDU(.unbindResp, sequence: pdu.sequence)), .close(reason: "the ESME unbound")]
        case .deliverSm:
            // An ESME does not deliver to the SMSC.
            return [.send(PDU(.genericNack, sequence: pdu.sequence, status: .invalidCommandID))]
        case .deliverSmResp, .genericNack:
            // An answer to a deliver_sm of ours, or to nothing we sent (ignored).
            guard let token = delivering.removeValue(forKey: pdu.sequence) else { return [] }
            return [.delivered(token: token, status: pdu.status)]
        case .bindResp, .submitSmResp, .dataSmResp, .enquireLinkResp, .unbindResp:
            return []
        }
    }

    mutating func submit(_ m: ShortMessage, sequence: UInt32, dataSm: Bool, nowMs: Int64) -> [Action] {
        guard let bind, bind.mode.canSubmit else {
            return [.send(response(sequence: sequence, dataSm: dataSm, status: .incorrectBindStatus))]
        }
        guard inFlight < configuration.window else {
            overrunsInARow += 1
            if overrunsInARow > configuration.maxStrikes * configuration.window {
                return close("\(overrunsInARow) submits past a full window of \(configuration.window) in a row")
            }
            return [.send(response(sequence: sequence, dataSm: dataSm, status: .throttled))]
        }
        overrunsInARow = 0
        inFlight += 1
        let request = SubmitAssembler.Request(sequence: sequence, dataSm: dataSm)
        guard let (submission, requests) = assembler.add(m, request, nowMs: nowMs) else { return [] }
        let token = nextToken
        nextToken += 1
        deciding[token] = requests
        return [.submit(token: token, submission)]
    }

    func response(sequence: UInt32, dataSm: Bool, status: CommandStatus, messageID: String = "") -> PDU {
        dataSm
            ? PDU(.dataSmResp(messageID: messageID, tlvs: []), sequence: sequence, status: status)
            : PDU(.submitSmResp(messageID: messageID), sequence: sequence, status: status)
    }

    /// The answer to `.authenticate`: `.ok` binds the session; any other status refuses the bind and closes.
    public mutating func bindDecided(_ status: CommandStatus, systemID: String) -> [Action] {
        guard case .authenticating(let sequence, let b) = state else { return [] }
        let resp = PDU(.bindResp(BindResp(mode: b.mode, systemID: systemID)), sequence: sequence, status: status)
        guard status == .ok else {
            state = .closed
            return [.send(resp), .close(reason: "bind of \(b.systemID) refused: \(status)")]
        }
        state = .bound(b)
        return [.send(resp)]
    }

    /// The answer to `.submit`: the message id once the message is durable (every part's response carries it), or
    /// the status that refuses it.
    public mutating func submitDecided(token: UInt64, status: CommandStatus, messageID: String) -> [Action] {
        guard let requests = deciding.removeValue(forKey: token) else { return [] }
        return answer(requests, status: status, messageID: status == .ok ? messageID : "")
    }

    mutating func answer(_ requests: [SubmitAssembler.Request], status: CommandStatus, messageID: String) -> [Action] {
        inFlight = max(0, inFlight - requests.count)
        guard state != .closed else { return [] }
        return requests.map {
            .send(response(sequence: $0.sequence, dataSm: $0.dataSm, status: status, messageID: messageID))
        }
    }

    /// The clock: closes a session that never bound in time or went quiet.
    public mutating func tick(nowMs: Int64) -> [Action] {
        // Parts whose siblings never came: refused, their window slots freed.
        let expired = assembler.expire(nowMs: nowMs)
        let refused = expired.isEmpty ? [] : answer(expired, status: .submitFailed, messageID: "")
        return refused + clock(nowMs: nowMs)
    }

    mutating func clock(nowMs: Int64) -> [Action] {
        switch state {
        case .closed:
            return []
        case .open, .authenticating:
            if nowMs - openedAtMs >= configuration.bindTimeoutMs {
                return close("not bound \(configuration.bindTimeoutMs / 1000) s after connecting")
            }
        case .bound:
            break
        }
        if nowMs - lastActivityMs >= configuration.idleMs {
            return close("idle for \(configuration.idleMs / 1000) s")
        }
        return []
    }

    /// The stream cannot be framed (a command_length out of bounds): nothing after it can be trusted.
    public mutating func framingFailed(_ error: SMPPFramingError) -> [Action] {
        close("command_length \(error.commandLength) is out of bounds (16 to \(PDU.maxLength))")
    }

    mutating func close(_ reason: String) -> [Action] {
        state = .closed
        return [.close(reason: reason)]
    }
}
