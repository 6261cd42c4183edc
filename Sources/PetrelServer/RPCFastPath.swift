import NIOCore
import NIOHTTP1
import PetrelAPI

/// The RPC door (`/`) served straight from the channel pipeline, in front of Hummingbird's router.
///
/// A single send spends most of its CPU outside Petrel: in the async channel bridge that hands each request to a
/// task and each response part back to the event loop, and in converting NIOHTTP1's parts to swift-http-types.
/// Here the request is collected on the event loop from the HTTP decoder's parts and handed to the gateway there
/// (which answers sends without a task, see `Gateway.handle(_:answer:)`); the answer is written on the loop.
/// Everything else (console, metrics, health) passes through to Hummingbird untouched (see `PetrelHTTP1Channel`).
/// Requests are answered in order: while one is in flight (ours or Hummingbird's), later pipelined parts wait here.
///
/// Because Hummingbird's connection-state handler never sees the requests answered here, this handler owns the
/// connection's idle timeout (Hummingbird's is off) and graceful-shutdown quiescing: a connection with nothing in
/// flight, or stalled mid-request, for `idleTimeout` is closed; on quiesce an idle connection closes at once and a
/// busy one after its answer.
final class RPCFastPath: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    let serve: @Sendable (RPCRequest, @escaping @Sendable (RPCResponse) -> Void) -> Void
    let bodyTooLarge: @Sendable () -> RPCResponse
    let maxBody: Int

    private enum State {
        case idle
        /// Collecting one of ours.
        case collecting(HTTPRequestHead, ByteBuffer, tooLarge: Bool)
        /// Ours, handed to the gateway.
        case serving
        /// Hummingbird's: parts pass through until its answer ends.
        case passing(requestEnded: Bool)
    }

    private var state = State.idle
    /// A part went on to Hummingbird since the last read-complete. Only then is read-complete passed on: the async
    /// channel behind it does work on each one, and for requests answered here there is nothing to deliver.
    private var forwarded = false
    private var waiting: [HTTPServerRequestPart] = []
    private var closeAfterResponse = false
    private let idleTimeout: TimeAmount
    private var lastActivity = NIODeadline.now()
    private var idleCheck: RepeatedTask?
    /// The response encoder's context: bytes written from it go straight to the socket. Our answers are written
    /// whole, as one buffer, past the encoder (three parts through it cost more than the answer itself); only
    /// Hummingbird's responses go through it.
    private var wire: ChannelHandlerContext?
    private var context: ChannelHandlerContext?
    /// Hands plain RPC requests over already parsed, when the connection has one (see `RPCRequestFront`).
    weak var front: RPCRequestFront?

    init(
        maxBody: Int, idleTimeout: TimeAmount, serve: @escaping @Sendable (RPCRequest, @escaping @Sendable (RPCResponse) -> Void) -> Void,
        bodyTooLarge: @escaping @Sendable () -> RPCResponse
    ) {
        self.maxBody = maxBody
        self.idleTimeout = idleTimeout
        self.serve = serve
        self.bodyTooLarge = bodyTooLarge
    }

    func handlerAdded(context: ChannelHandlerContext) {
        lastActivity = .now()
        wire = try? context.pipeline.syncOperations.context(handlerType: HTTPResponseEncoder.self)
        self.context = context
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let every = TimeAmount.nanoseconds(max(idleTimeout.nanoseconds / 4, 1_000_000))
        idleCheck = context.eventLoop.scheduleRepeatedTask(initialDelay: every, delay: every) { _ in
            let (handler, context) = bound.value
            handler.checkIdle(context: context)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        idleCheck?.cancel()
        idleCheck = nil
        wire = nil
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        idleCheck?.cancel()
        idleCheck = nil
        context.fireChannelInactive()
    }

    private func checkIdle(context: ChannelHandlerContext) {
        guard NIODeadline.now() - lastActivity >= idleTimeout else { return }
        switch state {
        case .idle, .collecting: context.close(promise: nil)     // nothing in flight, or a client stalled mid-request
        case .serving, .passing: break                           // we owe an answer
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is ChannelShouldQuiesceEvent else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        switch state {
        case .idle, .collecting: context.close(promise: nil)
        case .serving: closeAfterResponse = true
        case .passing: context.fireUserInboundEventTriggered(event)  // Hummingbird closes after its answer
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastActivity = .now()
        handle(context: context, part: unwrapInboundIn(data))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        passReadComplete(context: context)
    }

    private func passReadComplete(context: ChannelHandlerContext) {
        guard forwarded else { return }
        forwarded = false
        context.fireChannelReadComplete()
    }

    private func forward(context: ChannelHandlerContext, _ part: HTTPServerRequestPart) {
        forwarded = true
        context.fireChannelRead(wrapInboundOut(part))
    }

    private func handle(context: ChannelHandlerContext, part: HTTPServerRequestPart) {
        switch (state, part) {
        case (.idle, .head(let head)):
            if Self.isRPC(head) {
                state = .collecting(head, context.channel.allocator.buffer(capacity: 0), tooLarge: false)
            } else {
                state = .passing(requestEnded: false)
                forward(context: context, part)
            }
        case (.idle, _):
            // The rest of a request Hummingbird already answered (an early response): still Hummingbird's.
            forward(context: context, part)
        case (.collecting(let head, var body, let tooLarge), .body(let chunk)):
            state = .idle   // drop the reference so the buffer is not copied on write
            let over = tooLarge || body.readableBytes + chunk.readableBytes > maxBody
            if !over { body.writeImmutableBuffer(chunk) }
            state = .collecting(head, body, tooLarge: over)
        case (.collecting(let head, let body, let tooLarge), .end):
            state = .serving
            start(context: context, head: head, body: body, tooLarge: tooLarge)
        case (.collecting, .head):
            context.close(promise: nil)     // cannot come from the HTTP decoder
        case (.passing(false), .end):
            state = .passing(requestEnded: true)
            forward(context: context, part)
        case (.passing(false), _):
            forward(context: context, part)
        case (.serving, _), (.passing(true), _):
            // A pipelined request while one is in flight: it waits its turn.
            waiting.append(part)
        }
    }

    /// A request `RPCRequestFront` parsed from the bytes (only while nothing else is in flight here).
    func serve(_ request: RPCRequest, keepAlive: Bool) {
        guard let context, case .idle = state else {
            self.context?.close(promise: nil)   // cannot happen: the front waits for each answer
            return
        }
        lastActivity = .now()
        state = .serving
        start(context: context, request: request, keepAlive: keepAlive, tooLarge: false)
    }

    private func start(context: ChannelHandlerContext, head: HTTPRequestHead, body: ByteBuffer, tooLarge: Bool) {
        let request = RPCRequest(
            method: head.method.rawValue, path: Self.path(head.uri), query: Self.query(head.uri),
            headers: head.headers.map { (name: $0.name, value: $0.value) },
            authority: head.headers.first(name: "host") ?? "", body: Array(buffer: body))
        start(context: context, request: request, keepAlive: head.isKeepAlive, tooLarge: tooLarge)
    }

    private func start(context: ChannelHandlerContext, request: RPCRequest, keepAlive: Bool, tooLarge: Bool) {
        if !keepAlive { closeAfterResponse = true }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let answer: @Sendable (RPCResponse) -> Void = { response in
            let reply = {
                let (handler, context) = bound.value
                handler.respond(context: context, response)
            }
            // Usually on the connection's loop already (the store answers there); otherwise hop.
            if bound.eventLoop.inEventLoop { reply() } else { bound.eventLoop.execute(reply) }
        }
        if tooLarge { answer(bodyTooLarge()) } else { serve(request, answer) }
    }

    private func respond(context: ChannelHandlerContext, _ r: RPCResponse) {
        guard context.channel.isActive else { return }
        lastActivity = .now()
        let bytes = Self.encode(r, close: closeAfterResponse, allocator: context.channel.allocator)
        let out = wire ?? context
        if closeAfterResponse {
            out.writeAndFlush(NIOAny(IOData.byteBuffer(bytes))).whenComplete { _ in context.close(promise: nil) }
            return
        }
        out.writeAndFlush(NIOAny(IOData.byteBuffer(bytes)), promise: nil)
        finished(context: context)
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

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        lastActivity = .now()
        context.write(data, promise: promise)
        if case .end = unwrapOutboundIn(data), case .passing = state { finished(context: context) }
    }

    /// A response ended: waiting requests go on until one is in flight again.
    private func finished(context: ChannelHandlerContext) {
        state = .idle
        guard !waiting.isEmpty else {
            front?.answered()
            return
        }
        drain: while !waiting.isEmpty {
            switch state {
            case .serving, .passing(requestEnded: true): break drain
            default: handle(context: context, part: waiting.removeFirst())
            }
        }
        // Hummingbird's async bridge hands reads over on read-complete; parts replayed here come outside a read.
        passReadComplete(context: context)
    }

    static func isRPC(_ head: HTTPRequestHead) -> Bool {
        guard head.method == .POST || head.method == .GET else { return false }
        return head.uri == "/" || head.uri.hasPrefix("/?")
    }

    static func path(_ full: String) -> String {
        full.utf8.firstIndex(of: UInt8(ascii: "?")).map { String(full[..<$0]) } ?? full
    }

    static func query(_ full: String) -> String {
        full.utf8.firstIndex(of: UInt8(ascii: "?")).map { String(full[full.utf8.index(after: $0)...]) } ?? ""
    }
}
