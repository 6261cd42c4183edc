/// The client (ESME) side of one SMPP session, as a pure state machine: every input returns the actions the
/// I/O layer must take. No channel, no clock, no logger inside: times come in as arguments.
///
///     idle ──connected──▶ binding ──bind_resp OK──▶ bound ──unbind──▶ unbinding ──▶ closed
///                            └──bind_resp error──▶ closed          └──unbind from SMSC──▶ closed
public struct ESMEStateMachine: Sendable {
    public struct Configuration: Sendable {
        public var bind: Bind
        /// Outstanding submit_sm allowed at once.
        public var window: Int
        public var responseTimeoutMs: Int64
        /// Send enquire_link after this long without traffic.
        public var enquireLinkIntervalMs: Int64

        public init(
            bind: Bind,
            window: Int = 100,
            responseTimeoutMs: Int64 = 10_000,
            enquireLinkIntervalMs: Int64 = 30_000
        ) {
            self.bind = bind
            self.window = window
            self.responseTimeoutMs = responseTimeoutMs
            self.enquireLinkIntervalMs = enquireLinkIntervalMs
        }
    }

    public enum State: Sendable, Equatable {
        case idle
        case binding(sequence: UInt32)
        case bound
        case unbinding(sequence: UInt32)
        case closed
    }

    /// How a submit ended, as far as this session knows.
    public enum SubmitResult: Sendable, Equatable {
        case response(status: CommandStatus, messageID: String)
        /// No answer within the timeout, or the connection went away: the outcome is unknown.
        case noResponse
    }

    public enum Action: Sendable, Equatable {
        case send(PDU)
        case bound
        case bindRejected(CommandStatus)
        case submitted(token: UInt64, SubmitResult)
        /// A deliver_sm / data_sm for the application; answer it with `respond(to:status:)`.
        case deliver(PDU)
        case close(reason: String)
    }

    enum Pending: Sendable {
        case submit(token: UInt64, sentAtMs: Int64)
        case enquireLink(sentAtMs: Int64)

        /// The response a request of this kind must get (generic_nack aside).
        var response: CommandID {
            switch self {
            case .submit: .submitSmResp
            case .enquireLink: .enquireLinkResp
            }
        }
    }

    public let configuration: Configuration
    public private(set) var state: State = .idle
    private var nextSequence: UInt32 = 1
    /// Requests sent and not answered yet. Only `add` and `take` change it, so `submitsInFlight` (the window
    /// accounting) cannot drift from it.
    private var pending: [UInt32: Pending] = [:]
    private var submitsInFlight = 0
    private var lastActivityMs: Int64 = 0

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    public var windowFree: Int { state == .bound ? configuration.window - submitsInFlight : 0 }
    public var inFlight: Int { submitsInFlight }

    mutating func sequence() -> UInt32 {
        let s = nextSequence
        nextSequence = nextSequence >= 0x7FFF_FFFF ? 1 : nextSequence + 1
        return s
    }

    public mutating func connected(nowMs: Int64) -> [Action] {
        guard state == .idle else { return [] }
        let seq = sequence()
        state = .binding(sequence: seq)
        lastActivityMs = nowMs
        return [.send(PDU(.bind(configuration.bind), sequence: seq))]
    }

    /// Sends a submit_sm if bound and the window has room; nil otherwise. `token` comes back in `.submitted`.
    public mutating func submit(_ message: ShortMessage, token: UInt64, nowMs: Int64) -> Action? {
        guard state == .bound, submitsInFlight < configuration.window else { return nil }
        let seq = sequence()
        add(.submit(token: token, sentAtMs: nowMs), sequence: seq)
        lastActivityMs = nowMs
        return .send(PDU(.submitSm(message), sequence: seq))
    }

    /// Forgets a submit that `submit` returned but that could not be written: its window slot is free again and
    /// no result is reported for it (the caller knows).
    public mutating func abandon(sequence: UInt32) {
        _ = take(sequence)
    }

    /// The answer to an inbound deliver_sm / data_sm, once the application has dealt with it.
    public func respond(to pdu: PDU, status: CommandStatus) -> Action {
        switch pdu.body {
        case .dataSm: return .send(PDU(.dataSmResp(messageID: "", tlvs: []), sequence: pdu.sequence, status: status))
        default: return .send(PDU(.deliverSmResp(messageID: ""), sequence: pdu.sequence, status: status))
        }
    }

    public mutating func received(_ frame: SMPPFrame, nowMs: Int64) -> [Action] {
        lastActivityMs = nowMs
        let pdu: PDU
        switch frame {
        case .malformed(let command, let sequence, let error):
            // A response we cannot read still answers its request: treat it as a failure of that request.
            if command & 0x8000_0000 != 0, let p = pending[sequence] {
                guard command == p.response.rawValue || command == CommandID.genericNack.rawValue else {
                    return mismatched(command: command, sequence: sequence)
                }
                _ = take(sequence)
                return finish(p, .response(status: error.status, messageID: ""))
            }
            return [.send(PDU(.genericNack, sequence: sequence, status: error.status))]
        case .pdu(let p):
            pdu = p
        }
        if pdu.commandID.isResponse, pdu.commandID != .genericNack, let p = pending[pdu.sequence],
            pdu.commandID != p.response
        {
            return mismatched(command: pdu.commandID.rawValue, sequence: pdu.sequence)
        }

        switch pdu.body {
        case .bindResp:
            guard case .binding(let seq) = state, seq == pdu.sequence else { return [] }
            if pdu.status == .ok {
                state = .bound
                return [.bound]
            }
            state = .closed
            return [.bindRejected(pdu.status), .close(reason: "bind refused: \(pdu.status)")]
        case .submitSmResp(let id):
            guard let p = take(pdu.sequence) else { return [] }
            return finish(p, .response(status: pdu.status, messageID: id))
        case .genericNack:
            if case .binding(let seq) = state, seq == pdu.sequence {
                state = .closed
                return [.bindRejected(pdu.status), .close(reason: "bind answered with generic_nack \(pdu.status)")]
            }
            guard let p = take(pdu.sequence) else { return [] }
            return finish(p, .response(status: pdu.status == .ok ? .unknownError : pdu.status, messageID: ""))
        case .enquireLink:
            return [.send(PDU(.enquireLinkResp, sequence: pdu.sequence))]
        case .enquireLinkResp:
            _ = take(pdu.sequence)
            return []
        case .deliverSm, .dataSm:
            guard state == .bound || isUnbinding else {
                return [
                    .send(
                        PDU(
                            pdu.commandID == .dataSm
                                ? .dataSmResp(messageID: "", tlvs: []) : .deliverSmResp(messageID: ""),
                            sequence: pdu.sequence,
                            status: .incorrectBindStatus
                        )
                    )
                ]
            }
            return [.deliver(pdu)]
        case .unbind:
            state = .closed
            return [.send(PDU(.unbindResp, sequence: pdu.sequence))] + failAll() + [.close(reason: "the SMSC unbound")]
        case .unbindResp:
            guard isUnbinding else { return [] }
            state = .closed
            return failAll() + [.close(reason: "unbound")]
        case .bind, .submitSm, .deliverSmResp, .dataSmResp:
            // Requests an ESME does not serve, and responses to requests it never sent.
            if pdu.commandID.isResponse { return [] }
            return [.send(PDU(.genericNack, sequence: pdu.sequence, status: .invalidCommandID))]
        }
    }

    var isUnbinding: Bool {
        if case .unbinding = state { return true }
        return false
    }

    mutating func add(_ p: Pending, sequence: UInt32) {
        if let earlier = pending.updateValue(p, forKey: sequence), case .submit = earlier { submitsInFlight -= 1 }
        if case .submit = p { submitsInFlight += 1 }
    }

    mutating func take(_ sequence: UInt32) -> Pending? {
        guard let p = pending.removeValue(forKey: sequence) else { return nil }
        if case .submit = p { submitsInFlight -= 1 }
        return p
    }

    /// A response whose type is not the one its request needs (an enquire_link_resp for a submit_sm): the peer
    /// mixed up its sequence numbers, so no answer on this session can be trusted. It is a protocol error: the
    /// session closes and every outstanding submit, that one included, has an unknown outcome (sent again).
    mutating func mismatched(command: UInt32, sequence: UInt32) -> [Action] {
        state = .closed
        let name = CommandID(rawValue: command).map { "\($0)" } ?? "command 0x\(String(command, radix: 16))"
        return failAll() + [.close(reason: "\(name) answered request \(sequence) of another type")]
    }

    mutating func finish(_ p: Pending, _ result: SubmitResult) -> [Action] {
        switch p {
        case .submit(let token, _):
            return [.submitted(token: token, result)]
        case .enquireLink:
            return []
        }
    }

    /// Timers: answers that never came, and keep-alive.
    public mutating func tick(nowMs: Int64) -> [Action] {
        var actions: [Action] = []
        for (seq, p) in pending {
            switch p {
            case .submit(_, let sent) where nowMs - sent >= configuration.responseTimeoutMs:
                _ = take(seq)
                actions += finish(p, .noResponse)
            case .enquireLink(let sent) where nowMs - sent >= configuration.responseTimeoutMs:
                state = .closed
                return actions + failAll() + [.close(reason: "no answer to enquire_link")]
            default:
                break
            }
        }
        if case .binding = state, nowMs - lastActivityMs >= configuration.responseTimeoutMs {
            state = .closed
            return [.close(reason: "no answer to bind")]
        }
        if state == .bound, nowMs - lastActivityMs >= configuration.enquireLinkIntervalMs,
            !pending.values.contains(where: { if case .enquireLink = $0 { return true } else { return false } })
        {
            let seq = sequence()
            add(.enquireLink(sentAtMs: nowMs), sequence: seq)
            actions.append(.send(PDU(.enquireLink, sequence: seq)))
        }
        return actions
    }

    /// Starts a clean unbind; outstanding submits still get their responses until unbind_resp.
    public mutating func unbind(nowMs: Int64) -> [Action] {
        guard state == .bound else {
            if state != .closed {
                state = .closed
                return failAll() + [.close(reason: "closed before bound")]
            }
            return []
        }
        let seq = sequence()
        state = .unbinding(sequence: seq)
        lastActivityMs = nowMs
        return [.send(PDU(.unbind, sequence: seq))]
    }

    /// The connection is gone: every outstanding submit has an unknown outcome.
    public mutating func connectionClosed() -> [Action] {
        state = .closed
        return failAll()
    }

    mutating func failAll() -> [Action] {
        var actions: [Action] = []
        for seq in pending.keys.sorted() {
            if let p = take(seq) { actions += finish(p, .noResponse) }
        }
        return actions
    }
}
