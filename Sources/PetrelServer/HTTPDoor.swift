import NIOCore
import NIOHTTP1
import PetrelAPI
import Synchronization

/// The HTTP door: one handler between NIOHTTP1's response encoder and its request decoder that runs an
/// `HTTPConnectionStateMachine` for the connection.
///
/// Inbound it sees the connection's bytes: plain RPC requests are parsed and served right here, on the
/// connection's event loop (the gateway answers sends without a task, see `Gateway.handle(_:answer:)`), and each
/// answer is written whole, as one buffer, past the encoder. A single send spends most of its CPU outside Petrel
/// otherwise: in the async channel bridge and in converting NIOHTTP1's parts to swift-http-types. Other requests'
/// bytes go on to the decoder and Hummingbird (console, metrics, health, unusual RPC requests). Outbound it sees
/// Hummingbird's response parts, which tell the state machine when those requests are answered.
///
/// Hummingbird's connection-state handler sees only its own requests, so the door owns the connection's deadlines
/// (Hummingbird's idle timeout is off), graceful-shutdown quiescing, half-close, backpressure and the cap on
/// connections.
final class HTTPDoor: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    typealias Serve = @Sendable (RPCRequest, @escaping @Sendable (RPCResponse) -> Void) -> Void

    let serve: Serve
    let bodyTooLarge: @Sendable () -> RPCResponse
    private let gauge: ConnectionGauge?
    private let clock: () -> NIODeadline
    private var machine: HTTPConnectionStateMachine
    private var counted = false
    /// Bytes went on to the decoder since the last read-complete. Only then is read-complete passed on: the async
    /// channel behind it does work on each one, and for requests answered here there is nothing to deliver.
    private var forwarded = false
    private var reading = false
    /// Actions run one after another, never nested: an answer given at once would otherwise serve the next
    /// pipelined request from inside the previous one's write, as deep as the client pipelines.
    private var queue: [HTTPConnectionStateMachine.Action] = []
    private var running = false
    private var ticker: RepeatedTask?
    /// The response encoder's context: bytes written from it go straight to the socket (our answers skip it).
    private var wire: ChannelHandlerContext?
    private var context: ChannelHandlerContext?

    init(
        configuration: HTTPConnectionStateMachine.Configuration,
        gauge: ConnectionGauge? = nil,
        clock: @escaping () -> NIODeadline = { .now() },
        serve: @escaping Serve,
        bodyTooLarge: @escaping @Sendable () -> RPCResponse
    ) {
        self.machine = HTTPConnectionStateMachine(configuration: configuration, now: clock())
        self.gauge = gauge
        self.clock = clock
        self.serve = serve
        self.bodyTooLarge = bodyTooLarge
    }

    /// Places the door in a pipeline set up by `configureHTTPServerPipeline`: after the encoder, before the decoder.
    func install(in pipeline: ChannelPipeline.SynchronousOperations) throws {
        let encoder = try pipeline.handler(type: HTTPResponseEncoder.self)
        try pipeline.addHandler(self, position: .after(encoder))
    }

    // MARK: lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        wire = try? context.pipeline.syncOperations.context(handlerType: HTTPResponseEncoder.self)
        let c = machine.configuration
        let shortest = min(c.idleTimeout.nanoseconds, c.headTimeout.nanoseconds, c.bodyTimeout.nanoseconds)
        let every = TimeAmount.nanoseconds(max(shortest / 4, 1_000_000))
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        ticker = context.eventLoop.scheduleRepeatedTask(initialDelay: every, delay: every) { _ in
            let (door, context) = bound.value
            door.run(door.machine.tick(now: door.clock()), context: context)
        }
        if context.channel.isActive { admit(context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        stop()
        wire = nil
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        admit(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        stop()
        context.fireChannelInactive()
    }

    private func stop() {
        ticker?.cancel()
        ticker = nil
        if counted {
            counted = false
            gauge?.leave()
        }
    }

    /// Counts the connection; over the limit it gets a 503 and is closed.
    private func admit(context: ChannelHandlerContext) {
        guard let gauge, !counted else { return }
        counted = true
        guard !gauge.enter() else { return }
        machine.refuse(now: clock())
        let refusal = Self.encode(gauge.refusal(), close: true, allocator: context.channel.allocator)
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        (wire ?? context).writeAndFlush(NIOAny(IOData.byteBuffer(refusal))).whenComplete { _ in
            // Output closed first so the client reads the 503 rather than a reset; the tick closes the rest.
            bound.value.close(mode: .output, promise: nil)
        }
    }

    // MARK: inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        reading = true
        run(machine.read(unwrapInboundIn(data), now: clock()), context: context)
        reading = false
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        guard forwarded else { return }
        forwarded = false
        context.fireChannelReadComplete()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        let action: HTTPConnectionStateMachine.Action
        if case .inputClosed? = event as? ChannelEvent {
            action = machine.inputClosed(now: clock())
        } else if event is ChannelShouldQuiesceEvent {
            action = machine.quiesce()
        } else {
            action = .passEvent
        }
        if case .passEvent = action {
            context.fireUserInboundEventTriggered(event)
        } else {
            run(action, context: context)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        run(machine.writabilityChanged(context.channel.isWritable, now: clock()), context: context)
        context.fireChannelWritabilityChanged()
    }

    // MARK: outbound

    func read(context: ChannelHandlerContext) {
        if machine.readRequested() { context.read() }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head):
            machine.responseHead(status: Int(head.status.code), now: clock())
            context.write(data, promise: promise)
        case .body:
            context.write(data, promise: promise)
        case .end:
            context.write(data, promise: promise)
            run(machine.responseEnd(now: clock()), context: context)  // the next request may go to Hummingbird
        }
    }

    // MARK: actions

    private func run(_ action: HTTPConnectionStateMachine.Action, context: ChannelHandlerContext) {
        queue.append(action)
        guard !running else { return }
        running = true
        while !queue.isEmpty {
            perform(queue.removeFirst(), context: context)
        }
        running = false
        if machine.takePendingRead() { context.read() }
    }

    private func perform(_ action: HTTPConnectionStateMachine.Action, context: ChannelHandlerContext) {
        switch action {
        case .none, .passEvent:
            break
        case .serve(let request):
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            serve(request) { response in
                let reply: @Sendable () -> Void = {
                    let (door, context) = bound.value
                    door.respond(response, context: context)
                }
                // Usually on the connection's loop already (the store answers there); otherwise hop.
                if bound.eventLoop.inEventLoop { reply() } else { bound.eventLoop.execute(reply) }
            }
        case .answerTooLarge:
            respond(bodyTooLarge(), context: context)
        case .forward(let bytes):
            forwarded = true
            context.fireChannelRead(wrapInboundOut(bytes))
            // Outside a read (after an answer) no read-complete follows by itself, and Hummingbird's side only
            // takes requests over on one.
            if !reading {
                forwarded = false
                context.fireChannelReadComplete()
            }
            if machine.takeInputClosed() { context.fireUserInboundEventTriggered(ChannelEvent.inputClosed) }
        case .close:
            context.close(promise: nil)
        }
    }

    private func respond(_ r: RPCResponse, context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        let close = machine.answering()
        let bytes = Self.encode(r, close: close, allocator: context.channel.allocator)
        let out = wire ?? context
        machine.answerQueued()
        let written = out.eventLoop.makePromise(of: Void.self)
        out.writeAndFlush(NIOAny(IOData.byteBuffer(bytes)), promise: written)
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        written.futureResult.whenComplete { _ in
            let (door, context) = bound.value
            if close {
                context.close(promise: nil)
            } else {
                door.run(door.machine.answerFlushed(now: door.clock()), context: context)
            }
        }
        if !close { run(machine.answered(now: clock()), context: context) }
    }

    /// The whole HTTP/1.1 response: status line, the answer's headers, Content-Length, the body.
    static func encode(_ r: RPCResponse, close: Bool, allocator: ByteBufferAllocator) -> ByteBuffer {
        var out = allocator.buffer(capacity: 160 + r.body.count)
        out.writeStaticString("HTTP/1.1 ")
        out.writeString(String(r.status))
        out.writeInteger(UInt8(ascii: " "))
        out.writeString(HTTPResponseStatus(statusCode: r.status).reasonPhrase)
        out.writeStaticString("\r\n")
        for (name, value) in r.headers {
            out.writeString(name)
            out.writeStaticString(": ")
            out.writeString(value)
            out.writeStaticString("\r\n")
        }
        out.writeStaticString("Content-Length: ")
        out.writeString(String(r.body.count))
        out.writeStaticString(close ? "\r\nConnection: close\r\n\r\n" : "\r\n\r\n")
        out.writeBytes(r.body)
        return out
    }
}

/// Open HTTP connections across the server, against `http.maxConnections`.
final class ConnectionGauge: Sendable {
    let limit: Int
    private let open = Atomic<Int>(0)
    private let makeRefusal: @Sendable () -> RPCResponse

    init(limit: Int, refusal: @escaping @Sendable () -> RPCResponse) {
        self.limit = limit
        self.makeRefusal = refusal
    }

    var count: Int { open.load(ordering: .relaxed) }

    /// Counts a new connection; false when that puts it over the limit (it is still counted until it leaves).
    func enter() -> Bool { open.wrappingAdd(1, ordering: .relaxed).newValue <= limit }

    func leave() { open.wrappingSubtract(1, ordering: .relaxed) }

    /// The answer a connection over the limit gets (503).
    func refusal() -> RPCResponse { makeRefusal() }
}
