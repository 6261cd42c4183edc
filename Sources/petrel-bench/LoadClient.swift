import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// A wrk-like closed-loop load generator: each connection sends a pre-encoded request, waits for the whole
/// response, records it and sends the next, all inside one channel handler on the event loop. Requests come
/// from `RequestSource` (signed ahead of the timed window where possible, so the client costs little).
final class LoadHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = SimpleResponse
    typealias OutboundOut = ByteBuffer

    let source: RequestSource
    let deadline: NIODeadline
    let check: @Sendable (Int, ByteBuffer) -> Bool
    let units: Int
    let done: EventLoopPromise<Tally>
    var tally = Tally()
    var sentAt = NIODeadline.now()

    init(
        source: RequestSource,
        deadline: NIODeadline,
        units: Int,
        check: @escaping @Sendable (Int, ByteBuffer) -> Bool,
        done: EventLoopPromise<Tally>
    ) {
        self.source = source
        self.deadline = deadline
        self.units = units
        self.check = check
        self.done = done
    }

    func channelActive(context: ChannelHandlerContext) {
        sendNext(context: context)
    }

    func sendNext(context: ChannelHandlerContext) {
        let now = NIODeadline.now()
        guard now < deadline, let request = source.next(allocator: context.channel.allocator) else {
            done.succeed(tally)
            context.close(promise: nil)
            return
        }
        sentAt = now
        context.writeAndFlush(wrapOutboundOut(request), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let response = unwrapInboundIn(data)
        let latency = NIODeadline.now() - sentAt
        if check(response.status, response.body) {
            tally.record(.nanoseconds(latency.nanoseconds), units: units)
        } else {
            tally.errors += 1
            if tally.errors == 1 {
                print("bench: unexpected answer \(response.status): \(String(buffer: response.body).prefix(300))")
            }
        }
        sendNext(context: context)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        done.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        done.succeed(tally)  // no-op if already completed
    }
}

/// Hands out encoded requests: first those signed ahead of time, then freshly signed ones.
final class RequestSource: Sendable {
    private let prepared: [ByteBuffer]
    private let index = NIOLockedValueBox(0)
    private let make: @Sendable (Int) -> [UInt8]
    /// Requests to hand out at most; nil for as many as the time allows.
    private let limit: Int?

    init(prepared: [ByteBuffer], limit: Int? = nil, make: @escaping @Sendable (Int) -> [UInt8]) {
        self.prepared = prepared
        self.limit = limit
        self.make = make
    }

    var preparedCount: Int { prepared.count }
    var used: Int { index.withLockedValue { $0 } }

    func next(allocator: ByteBufferAllocator) -> ByteBuffer? {
        let i = index.withLockedValue { i -> Int in
            i += 1
            return i - 1
        }
        if let limit, i >= limit { return nil }
        if i < prepared.count { return prepared[i] }
        return allocator.buffer(bytes: make(i))
    }
}

enum LoadClient {
    static func run(
        host: String,
        port: Int,
        connections: Int,
        seconds: Double,
        units: Int,
        source: RequestSource,
        check: @escaping @Sendable (Int, ByteBuffer) -> Bool
    ) async throws -> Tally {
        let group = MultiThreadedEventLoopGroup.singleton
        let deadline = NIODeadline.now() + .milliseconds(Int64(seconds * 1000))
        var futures: [EventLoopFuture<Tally>] = []
        for _ in 0..<connections {
            let loop = group.next()
            let done = loop.makePromise(of: Tally.self)
            _ = ClientBootstrap(group: loop)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(SimpleResponseDecoder()))
                        try channel.pipeline.syncOperations.addHandler(
                            LoadHandler(source: source, deadline: deadline, units: units, check: check, done: done)
                        )
                    }
                }
                .connect(host: host, port: port)
                .whenFailure { done.fail($0) }
            futures.append(done.futureResult)
        }
        var total = Tally()
        for f in futures { total.merge(try await f.get()) }
        return total
    }
}

struct SimpleResponse {
    var status: Int
    var body: ByteBuffer
}

/// Frames HTTP/1.1 responses that carry a Content-Length (Petrel's always do): status line, headers, body.
/// Works on bytes only; it runs once per response on the load generator's hot path.
struct SimpleResponseDecoder: ByteToMessageDecoder {
    typealias InboundOut = SimpleResponse

    struct Malformed: Error {}

    static let contentLength = Array("content-length:".utf8)

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let frame: (status: Int, header: Int, length: Int)? = try buffer.withUnsafeReadableBytes { bytes in
            guard bytes.count >= 16 else { return nil }
            var end = -1
            var i = 3
            while i < bytes.count {
                if bytes[i] == 10, bytes[i - 1] == 13, bytes[i - 2] == 10, bytes[i - 3] == 13 {
                    end = i + 1
                    break
                }
                i += 1
            }
            guard end > 0 else { return nil }
            guard bytes[9] >= 48, bytes[9] <= 57 else { throw Malformed() }
            let status = Int(bytes[9] - 48) * 100 + Int(bytes[10] - 48) * 10 + Int(bytes[11] - 48)
            var length = 0
            var line = 0
            while line < end {
                // at the start of a line: does it begin with content-length: (any case)?
                var match = true
                for (k, c) in Self.contentLength.enumerated() {
                    let p = line + k
                    if p >= end || (bytes[p] | 0x20) != c && !(c == UInt8(ascii: ":") && bytes[p] == c) {
                        match = false
                        break
                    }
                }
                if match {
                    var p = line + Self.contentLength.count
                    while p < end, bytes[p] == 32 { p += 1 }
                    while p < end, bytes[p] >= 48, bytes[p] <= 57 {
                        length = length * 10 + Int(bytes[p] - 48)
                        p += 1
                    }
                }
                while line < end, bytes[line] != 10 { line += 1 }
                line += 1
            }
            return (status, end, length)
        }
        guard let frame, buffer.readableBytes >= frame.header + frame.length else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: frame.header)
        let body = buffer.readSlice(length: frame.length)!
        context.fireChannelRead(wrapInboundOut(SimpleResponse(status: frame.status, body: body)))
        return .continue
    }

    mutating func decodeLast(
        context: ChannelHandlerContext,
        buffer: inout ByteBuffer,
        seenEOF: Bool
    ) throws -> DecodingState {
        .needMoreData
    }
}
