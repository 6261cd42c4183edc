import NIOCore
import NIOHTTP1
import NIOPosix

/// A small HTTP/1.1 client for receipt pushes: one POST per connection, a deadline on the whole exchange.
/// Plain `http://` only; put a TLS-terminating proxy in front of an `https://` receiver.
public struct WebhookClient: Sendable {
    public struct Response: Sendable {
        public var status: Int
        public var body: [UInt8]
        public var headers: [(String, String)] = []
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public struct Endpoint: Sendable, Equatable {
        public var host: String
        public var port: Int
        public var path: String

        public init(host: String, port: Int, path: String) {
            self.host = host
            self.port = port
            self.path = path
        }

        /// Reads `http://host[:port][/path][?query]`.
        public init?(url: String) {
            guard url.hasPrefix("http://") else { return nil }
            let rest = url.dropFirst("http://".count)
            let authority = rest.prefix { $0 != "/" && $0 != "?" }
            var path = String(rest.dropFirst(authority.count))
            if path.isEmpty || path.hasPrefix("?") { path = "/" + path }
            var host = Substring(authority)
            var port = 80
            if host.hasPrefix("[") {  // [IPv6]:port
                guard let close = host.firstIndex(of: "]") else { return nil }
                let after = host[host.index(after: close)...]
                host = host[host.index(after: host.startIndex)..<close]
                if after.hasPrefix(":") {
                    guard let p = Int(after.dropFirst()) else { return nil }
                    port = p
                }
            } else if let colon = host.lastIndex(of: ":") {
                guard let p = Int(host[host.index(after: colon)...]) else { return nil }
                port = p
                host = host[..<colon]
            }
            guard !host.isEmpty, (1...65_535).contains(port) else { return nil }
            self.host = String(host)
            self.port = port
            self.path = path
        }
    }

    let group: any EventLoopGroup

    public init(group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.group = group
    }

    public func post(
        _ endpoint: Endpoint,
        body: [UInt8],
        headers extra: [(String, String)],
        timeout: TimeAmount
    ) async throws -> Response {
        try await request(.POST, endpoint, body: body, headers: extra, timeout: timeout)
    }

    /// One request on its own connection; `headers` may replace the JSON content type. `peer` names what should be
    /// listening, in the sentence a failed connect gives.
    public func request(
        _ method: HTTPMethod,
        _ endpoint: Endpoint,
        body: [UInt8],
        headers extra: [(String, String)],
        timeout: TimeAmount,
        maxBody: Int = 64 * 1024,
        peer: String = "the receiver"
    ) async throws -> Response {
        let loop = group.next()
        let promise = loop.makePromise(of: Response.self)
        let deadline = loop.scheduleTask(in: timeout) {
            promise.fail(Failure(description: "no answer within \(timeout.nanoseconds / 1_000_000) ms"))
        }
        promise.futureResult.whenComplete { _ in deadline.cancel() }

        var head = HTTPRequestHead(version: .http1_1, method: method, uri: endpoint.path)
        head.headers.add(name: "Host", value: endpoint.port == 80 ? endpoint.host : "\(endpoint.host):\(endpoint.port)")
        if !extra.contains(where: { $0.0.lowercased() == "content-type" }) {
            head.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
        }
        head.headers.add(name: "Content-Length", value: String(body.count))
        head.headers.add(name: "Connection", value: "close")
        head.headers.add(name: "User-Agent", value: "Petrel-Receipts/1")
        for (name, value) in extra { head.headers.add(name: name, value: value) }

        let connect = ClientBootstrap(group: loop)
            .connectTimeout(timeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(
                        ResponseCollector(promise: promise, maxBody: maxBody)
                    )
                }
            }
            .connect(host: endpoint.host, port: endpoint.port)
        connect.whenFailure {
            let text = NetworkErrorText.connecting($0, host: endpoint.host, port: endpoint.port, peer: peer)
            promise.fail(Failure(description: text))
        }
        connect.whenSuccess { channel in
            promise.futureResult.whenComplete { _ in channel.close(promise: nil) }
            var buffer = channel.allocator.buffer(capacity: body.count)
            buffer.writeBytes(body)
            channel.write(HTTPClientRequestPart.head(head), promise: nil)
            channel.write(HTTPClientRequestPart.body(.byteBuffer(buffer)), promise: nil)
            channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        }
        return try await promise.futureResult.get()
    }
}

/// Gathers one response; fails the promise if the connection ends first. Made in the channel initializer and used
/// on its channel's event loop only.
private final class ResponseCollector: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    let promise: EventLoopPromise<WebhookClient.Response>
    private var status = 0
    private var body: [UInt8] = []
    private var headers: [(String, String)] = []
    private let maxBody: Int

    init(promise: EventLoopPromise<WebhookClient.Response>, maxBody: Int) {
        self.promise = promise
        self.maxBody = maxBody
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = Int(head.status.code)
            headers = head.headers.map { ($0.name, $0.value) }
        case .body(let buffer):
            if body.count < maxBody { body += buffer.readableBytesView.prefix(maxBody - body.count) }
        case .end:
            promise.succeed(WebhookClient.Response(status: status, body: body, headers: headers))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(WebhookClient.Failure(description: "the receiver closed the connection without an answer"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let reason = NetworkErrorText.errnoCode(error).map { String(cString: strerror($0)) } ?? "\(type(of: error))"
        promise.fail(WebhookClient.Failure(description: "the connection to the receiver failed: \(reason)"))
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension ResponseCollector: Sendable {}
