import Logging
import NIOCore

/// One ESME connection to Petrel's SMPP server: the thin I/O around `SMSCSessionStateMachine`. It decodes, feeds
/// the machine, carries out its actions, and asks the delegate (which may wait for the store) in tasks whose
/// answers come back on the channel's event loop.
final class SMSCSessionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var machine: SMSCSessionStateMachine
    private let delegate: any SMPPServerDelegate
    private let connection: UInt64
    private let systemID: String
    private let logger: Logger
    private let clock: @Sendable () -> Int64
    private var decoder = NIOSingleStepByteToMessageProcessor(SMPPDecoder())
    private let flusher = BurstFlush()
    private var context: ChannelHandlerContext?
    private var timer: RepeatedTask?
    /// The delegate admitted this connection's bind: `unbound` is owed when it goes.
    private var admitted = false
    private var gone = false

    init(
        configuration: SMSCSessionStateMachine.Configuration,
        delegate: any SMPPServerDelegate,
        connection: UInt64,
        systemID: String,
        logger: Logger,
        clock: @escaping @Sendable () -> Int64
    ) {
        self.machine = SMSCSessionStateMachine(configuration: configuration, nowMs: clock())
        self.delegate = delegate
        self.connection = connection
        self.systemID = systemID
        self.logger = logger
        self.clock = clock
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        let every = TimeAmount.milliseconds(
            max(50, min(1000, min(machine.configuration.idleMs, machine.configuration.bindTimeoutMs) / 4))
        )
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleRepeatedTask(initialDelay: every, delay: every) { _ in
            let handler = bound.value
            handler.apply(handler.machine.tick(nowMs: handler.clock()))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        gone = true
        timer?.cancel()
        timer = nil
        if admitted {
            admitted = false
            delegate.unbound(connection: connection)
        }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        do {
            try flusher.read {
                try decoder.process(buffer: buffer) { frame in
                    self.apply(self.machine.received(frame, nowMs: self.clock()))
                }
            }
        } catch let error as SMPPFramingError {
            apply(machine.framingFailed(error))
        } catch {
            apply([.close(reason: "\(error)")])
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flusher.readComplete(context)
        context.fireChannelReadComplete()
    }

    /// An ESME that sends without reading our answers is not read until it does: what it sends waits in its own
    /// socket buffers, not in our memory. If it never reads, the idle timer closes it.
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        _ = context.channel.setOption(.autoRead, value: context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        close(reason: "\(error)")
    }

    func apply(_ actions: [SMSCSessionStateMachine.Action]) {
        for action in actions {
            switch action {
            case .send(let pdu): send(pdu)
            case .authenticate(let bind): authenticate(bind)
            case .submit(let token, let submission): submit(submission, token: token)
            case .close(let reason): close(reason: reason)
            case .delivered(let token, let status):
                delegate.delivered(connection: connection, token: token, status: status)
            }
        }
    }

    func send(_ pdu: PDU) {
        guard let context, !gone else { return }
        var buffer = context.channel.allocator.buffer(capacity: 64)
        do {
            try pdu.encode(into: &buffer)
        } catch {
            close(reason: "\(error)")
            return
        }
        context.write(wrapOutboundOut(buffer), promise: nil)
        flusher.wrote(context)
    }

    /// Sends receipts as deliver_sm (on the event loop); each is answered through the delegate's `delivered`.
    func deliver(_ messages: [(token: UInt64, message: ShortMessage)]) {
        guard let context, !gone else { return }
        flusher.read {
            for m in messages { apply(machine.deliver(m.message, token: m.token)) }
        }
        flusher.readComplete(context)
    }

    func close(reason: String) {
        guard let context, !gone else { return }
        logger.info(
            "SMPP session closed",
            metadata: [
                "connection": "\(connection)", "remote": "\(context.remoteAddress.map { "\($0)" } ?? "?")",
                "reason": "\(reason)",
            ]
        )
        flusher.closing(context, wrote: false)
        gone = true
        context.close(promise: nil)
    }

    func authenticate(_ bind: Bind) {
        guard let context else { return }
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let loop = context.eventLoop
        let (delegate, connection, remote) = (self.delegate, self.connection, context.remoteAddress)
        Task {
            let status = await delegate.bind(bind, remote: remote, connection: connection)
            loop.execute {
                let handler = bound.value
                if status == .ok {
                    // Gone while the delegate decided: give back what it admitted.
                    guard !handler.gone else { return delegate.unbound(connection: connection) }
                    handler.admitted = true
                }
                handler.apply(handler.machine.bindDecided(status, systemID: handler.systemID))
            }
        }
    }

    func submit(_ submission: Submission, token: UInt64) {
        guard let context else { return }
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let loop = context.eventLoop
        let (delegate, connection) = (self.delegate, self.connection)
        Task {
            let answer = await delegate.submit(submission, connection: connection)
            loop.execute {
                let handler = bound.value
                handler.apply(
                    handler.machine.submitDecided(token: token, status: answer.status, messageID: answer.messageID)
                )
            }
        }
    }
}

@available(*, unavailable)
extension SMSCSessionHandler: Sendable {}
