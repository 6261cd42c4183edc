import NIOCore
import NIOHTTP1
import NIOPosix

/// One keep-alive HTTP/1.1 connection that sends a request and waits for its whole response, over and over.
/// Small on purpose: the load generator shares the machine with the server, so it must cost little.
struct LoadConnection {
    struct Response {
        var status: Int
        var body: ByteBuffer
    }

    let channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>

    static func connect(host: String, port: Int) async throws -> LoadConnection {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                }
            }
        return LoadConnection(channel: channel)
    }

    /// Runs `body` with a function that performs one request on this connection.
    func run(_ body: (_ send: (HTTPRequestHead, ByteBuffer?) async throws -> Response) async throws -> Void) async throws {
        try await channel.executeThenClose { inbound, outbound in
            var iterator = inbound.makeAsyncIterator()
            try await body { head, payload in
                try await outbound.write(.head(head))
                if let payload { try await outbound.write(.body(.byteBuffer(payload))) }
                try await outbound.write(.end(nil))
                var status = 0
                var collected = ByteBuffer()
                while let part = try await iterator.next() {
                    switch part {
                    case .head(let h): status = Int(h.status.code)
                    case .body(var b): collected.writeBuffer(&b)
                    case .end: return Response(status: status, body: collected)
                    }
                }
                throw ChannelError.eof
            }
        }
    }
}
