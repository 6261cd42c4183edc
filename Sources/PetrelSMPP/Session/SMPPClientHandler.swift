public import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// What a bound session reports to its owner. Called on the channel's event loop.
public protocol SMPPClientDelegate: AnyObject, Sendable {
    func sessionBound(_ handler: SMPPClientHandler)
    func sessionBindRejected(_ handler: SMPPClientHandler, status: CommandStatus)
    func session(_ handler: SMPPClientHandler, submitted token: UInt64, result: ESMEStateMachine.SubmitResult)
    /// A deliver_sm or data_sm. Call `handler.respond(to:status:)` once it is safely handled.
    func session(_ handler: SMPPClientHandler, received pdu: PDU)
    func sessionClosed(_ handler: SMPPClientHandler, reason: String)
}

/// Runs an `ESMEStateMachine` on a channel: decodes frames, feeds them to the machine and carries out the
/// actions it returns. Everything happens on the channel's event loop, so the handler is not `Sendable`: to use it
/// from elsewhere, wrap it in `NIOLoopBound` and hop to its loop.
public final class SMPPClientHandler: ChannelDuplexHandler {
    public typealias InboundIn = ByteBuffer
    public typealias OutboundIn = Never
    public typealias OutboundOut = ByteBuffer

    private var machine: ESMEStateMachine
    private var decoder = NIOSingleStepByteToMessageProcessor(SMPPDecoder())
    private var context: ChannelHandlerContext?
    private var timer: Scheduled<Void>?
    private let clock: @Sendable () -> Int64
    private var closedReason: String?
    private let flusher = BurstFlush()
    public weak var delegate: (any SMPPClientDelegate)?
    /// Says an error of the layers below (TLS) in words for the session's close reason; nil: not one of theirs.
    public var errorText: ((any Error) -> String?)?
    public let name: String
    /// deliver_sm / data_sm handed to the delegate and not answered yet. At this many, the handler stops reading
    /// from the socket until answers catch up: TCP pushes back on a carrier that sends faster than receipts are
    /// stored, so a flood cannot grow memory without bound, and nothing is refused (some SMSCs take any
    /// deliver_sm_resp, ESME_RTHROTTLED included, as final and would never send the receipt again).
    public static let maxUnansweredDeliveries = 4096
    private var unanswered = 0
    private var readHeld = false

    public init(configuration: ESMEStateMachine.Configuration, name: String, clock: @escaping @Sendable () -> Int64) {
        self.machine = ESMEStateMachine(configuration: configuration)
        self.name = name
        self.clock = clock
    }

    public var eventLoop: (any EventLoop)? { context?.eventLoop }
    public var windowFree: Int { machine.windowFree }
    public var inFlight: Int { machine.inFlight }
    public var isBound: Bool { machine.state == .bound }

    public func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    public func channelActive(context: ChannelHandlerContext) {
        run(machine.connected(nowMs: clock()), context)
        scheduleTick(context)
        context.fireChannelActive()
    }

    /// The machine's timers (answers that never came, keep-alive), every 200 ms while the connection is up.
    private func scheduleTick(_ context: ChannelHandlerContext) {
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(200)) { [weak self] in
            guard let self, context.channel.isActive else { return }
            self.run(self.machine.tick(nowMs: self.clock()), context)
            if context.channel.isActive { self.scheduleTick(context) }
        }
    }

    public func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        run(machine.connectionClosed(), context)
        delegate?.sessionClosed(self, reason: closedReason ?? "connection lost")
        context.fireChannelInactive()
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        do {
            try flusher.read {
                try decoder.process(buffer: buffer) { frame in
                    self.run(self.machine.received(frame, nowMs: self.clock()), context)
                }
            }
        } catch {
            closedReason = "unreadable stream: \(error)"
            context.close(promise: nil)
        }
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        flusher.readComplete(context)
        context.fireChannelReadComplete()
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Said for people (the console's channel "last error"): the system's words for an errno, not NIO's text.
        closedReason =
            closedReason ?? errorText?(error) ?? (error as? IOError).map {
                "\(String(cString: strerror($0.errnoCode)))"
            }
            ?? "connection error (\(type(of: error)))"
        context.close(promise: nil)
    }

    public enum SubmitAttempt: Sendable, Equatable {
        case written
        /// Not bound, or the window is full: try again later.
        case noRoom
        /// The submit_sm cannot be encoded (a field too long for SMPP): it will never go, on any session.
        case unencodable(String)
    }

    /// Sends a submit_sm when the window has room. Must be called on the event loop.
    public func submit(_ message: ShortMessage, token: UInt64) -> SubmitAttempt {
        guard let context, case .send(let pdu)? = machine.submit(message, token: token, nowMs: clock()) else {
            return .noRoom
        }
        var buffer = context.channel.allocator.buffer(capacity: 64)
        do {
            try pdu.encode(into: &buffer)
        } catch {
            machine.abandon(sequence: pdu.sequence)
            return .unencodable(error.reason)
        }
        context.write(wrapOutboundOut(buffer), promise: nil)
        return .written
    }

    /// Flushes submits written with `submit`.
    public func flush() { context?.flush() }

    /// Answers a deliver_sm / data_sm. Must be called on the event loop.
    public func respond(to pdu: PDU, status: CommandStatus = .ok) {
        unanswered = max(0, unanswered - 1)
        guard let context, context.channel.isActive else { return }
        run([machine.respond(to: pdu, status: status)], context)
        if readHeld, unanswered < Self.maxUnansweredDeliveries {
            readHeld = false
            context.read()
        }
    }

    public func read(context: ChannelHandlerContext) {
        guard unanswered < Self.maxUnansweredDeliveries else {
            readHeld = true  // `respond` reads again once answers catch up
            return
        }
        context.read()
    }

    public func unbind() {
        guard let context else { return }
        run(machine.unbind(nowMs: clock()), context)
    }

    private func run(_ actions: [ESMEStateMachine.Action], _ context: ChannelHandlerContext) {
        var wrote = false
        for action in actions {
            switch action {
            case .send(let pdu):
                var buffer = context.channel.allocator.buffer(capacity: 64)
                do {
                    try pdu.encode(into: &buffer)
                } catch {
                    // The machine only answers with fixed-size PDUs; reaching this is a bug, and the session
                    // cannot go on with a request unanswered.
                    run([.close(reason: "could not write \(pdu.commandID): \(error.reason)")], context)
                    return
                }
                context.write(wrapOutboundOut(buffer), promise: nil)
                wrote = true
            case .bound:
                delegate?.sessionBound(self)
            case .bindRejected(let status):
                delegate?.sessionBindRejected(self, status: status)
            case .submitted(let token, let result):
                delegate?.session(self, submitted: token, result: result)
            case .deliver(let pdu):
                unanswered += 1
                delegate?.session(self, received: pdu)
            case .close(let reason):
                closedReason = reason
                flusher.closing(context, wrote: wrote)
                context.close(promise: nil)
                return
            }
        }
        if wrote { flusher.wrote(context) }
    }
}

@available(*, unavailable)
extension SMPPClientHandler: Sendable {}
