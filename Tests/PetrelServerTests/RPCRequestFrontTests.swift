import NIOCore
import NIOEmbedded
import NIOHTTP1
import Synchronization
import Testing

@testable import PetrelAPI
@testable import PetrelServer

@Suite struct RPCRequestFrontTests {
    static let sdkRequest =
        "POST /?To=85291234567&Message=Hi+there HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nx-acs-action: SendMessageToGlobe\r\n"
        + "x-acs-version:2018-05-01\r\nAuthorization:  ACS3-HMAC-SHA256 Credential=ak  \r\nContent-Length: 3\r\n\r\nabc"

    func parse(_ text: String, maxHead: Int = 16_384, maxBody: Int = 1_000) -> RPCRequestFront.Outcome {
        RPCRequestFront.parse(ByteBuffer(string: text), maxHead: maxHead, maxBody: maxBody)
    }

    @Test func readsAPlainRPCRequest() throws {
        guard case .request(let parsed) = parse(Self.sdkRequest + "GET /?a") else {
            Issue.record("not parsed")
            return
        }
        let r = parsed.request
        #expect(r.method == "POST" && r.path == "/" && r.query == "To=85291234567&Message=Hi+there")
        #expect(r.authority == "127.0.0.1:8080")
        #expect(r.headers.map(\.name) == ["Host", "x-acs-action", "x-acs-version", "Authorization", "Content-Length"])
        #expect(r.header("x-acs-version") == "2018-05-01")
        #expect(r.header("authorization") == "ACS3-HMAC-SHA256 Credential=ak")  // surrounding blanks dropped
        #expect(r.body == Array("abc".utf8))
        #expect(parsed.keepAlive)
        #expect(parsed.length == Self.sdkRequest.utf8.count)  // the next request is left alone

        guard case .request(let get) = parse("GET / HTTP/1.1\r\nconnection: Keep-Alive, CLOSE\r\n\r\n") else {
            Issue.record("not parsed")
            return
        }
        #expect(get.request.query == "" && get.request.body.isEmpty && get.request.authority == "")
        #expect(!get.keepAlive)
    }

    @Test func waitsForTheRestOfARequest() {
        for cut in [1, 20, Self.sdkRequest.utf8.count - 10, Self.sdkRequest.utf8.count - 1] {
            let part = String(decoding: Array(Self.sdkRequest.utf8.prefix(cut)), as: UTF8.self)
            guard case .incomplete = parse(part) else {
                Issue.record("cut at \(cut) was not incomplete")
                continue
            }
        }
    }

    /// Every request that is not the plain shape goes to the general decoder, which answers it as before.
    @Test func leavesEverythingUnusualToTheGeneralDecoder() {
        let unusual = [
            "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
            "PUT /?a=1 HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET /? HTTP/1.0\r\nHost: x\r\n\r\n",
            "GET //x HTTP/1.1\r\n\r\n",
            "POST /?a=1 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            "POST /?a=1 HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n",
            "GET /?a=1 HTTP/1.1\r\nUpgrade: h2c\r\n\r\n",
            "GET /?a=1 HTTP/1.1\r\nX-A: 1\r\n folded\r\n\r\n",
            "GET /?a=1 HTTP/1.1\r\nno colon\r\n\r\n",
            "GET /?a=1 HTTP/1.1\r\nBad Name: 1\r\n\r\n",
            "GET /?a=1 HTTP/1.1\r\nX: a\u{1}b\r\n\r\n",
            "GET /?a=1 HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            "POST /?a=1 HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
            "POST /?a=1 HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
            "POST /?a=1 HTTP/1.1\r\nContent-Length: 1001\r\n\r\n",  // over maxBody: the 413 comes from RPCFastPath
            "GET /?a=1 HTTP/1.1\nHost: x\n\n",
            "GET /?a=1 HTTP/1.1\r\nHost: x\n",  // a bare LF, even before the head is complete
        ]
        for text in unusual {
            guard case .general = parse(text) else {
                Issue.record("parsed: \(text.debugDescription)")
                continue
            }
        }
        let long = "GET /?a=1 HTTP/1.1\r\nX: " + String(repeating: "a", count: 2_000) + "\r\n\r\n"
        guard case .general = parse(long, maxHead: 1_024) else {
            Issue.record("a head over maxHead was parsed")
            return
        }
        guard case .general = parse(String(repeating: "a", count: 2_000), maxHead: 1_024) else {
            Issue.record("2,000 bytes without a blank line were still awaited")
            return
        }
    }

    /// Through a pipeline like the server's (the door between encoder and decoder): pipelined requests are served one at a time and in order, a request
    /// cut across reads waits for its end, and after a request of another shape the decoder takes everything.
    @Test func servesPipelinedRequestsInOrderThenHandsOver() throws {
        let served = Mutex<[String]>([])
        let answers = Mutex<[@Sendable (RPCResponse) -> Void]>([])
        let door = HTTPDoor(
            configuration: .init(
                maxHead: 16_384,
                maxBody: 1_000,
                headTimeout: .seconds(10),
                bodyTimeout: .seconds(30),
                idleTimeout: .seconds(60)
            ),
            serve: { request, answer in
                served.withLock { $0.append(request.query) }
                answers.withLock { $0.append(answer) }
            },
            bodyTooLarge: { RPCResponse(status: 413, headers: [], body: [], action: "", code: "", requestId: "") }
        )
        let passed = PartRecorder()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.configureHTTPServerPipeline(
            withPipeliningAssistance: false,
            withErrorHandling: false
        )
        try door.install(in: channel.pipeline.syncOperations)
        try channel.pipeline.syncOperations.addHandler(passed)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()

        let one = "POST /?n=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
        let two = "GET /?n=2 HTTP/1.1\r\nHost: x\r\n\r\n"
        let three = "GET /?n=3 HTTP/1.1\r\nHost: x\r\n\r\n"
        try channel.writeInbound(ByteBuffer(string: one + two + String(three.prefix(10))))
        #expect(served.withLock { $0 } == ["n=1"])  // the second waits for the first's answer
        answer(answers, 0, channel)
        #expect(served.withLock { $0 } == ["n=1", "n=2"])
        answer(answers, 1, channel)
        #expect(served.withLock { $0 } == ["n=1", "n=2"])  // the third is not all there yet
        try channel.writeInbound(ByteBuffer(string: String(three.dropFirst(10)) + "GET /healthz HTTP/1.1\r\n"))
        #expect(served.withLock { $0 } == ["n=1", "n=2", "n=3"])
        answer(answers, 2, channel)
        // The healthz request is not ours: from its first bytes on, the general decoder has the connection.
        try channel.writeInbound(ByteBuffer(string: "Host: x\r\n\r\nGET /?n=4 HTTP/1.1\r\nHost: x\r\n\r\n"))
        #expect(passed.heads == ["/healthz"])
        #expect(served.withLock { $0 } == ["n=1", "n=2", "n=3"])  // n=4 waits behind Hummingbird's answer
        var statuses: [String] = []
        while let out = try channel.readOutbound(as: IOData.self), case .byteBuffer(let b) = out {
            statuses.append(String(String(buffer: b).prefix(15)))
        }
        #expect(statuses == ["HTTP/1.1 200 OK", "HTTP/1.1 200 OK", "HTTP/1.1 200 OK"])
        _ = try channel.finish(acceptAlreadyClosed: true)
    }

    private func answer(
        _ answers: borrowing Mutex<[@Sendable (RPCResponse) -> Void]>,
        _ i: Int,
        _ channel: EmbeddedChannel
    ) {
        let reply = answers.withLock { $0[i] }
        reply(
            RPCResponse(
                status: 200,
                headers: [("Content-Type", "application/json")],
                body: Array("{}".utf8),
                action: "",
                code: "OK",
                requestId: ""
            )
        )
        channel.embeddedEventLoop.run()
    }
}

/// Stands in for Hummingbird at the end of the pipeline: records the request heads that reach it.
final class PartRecorder: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    var heads: [String] = []

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data) { heads.append(head.uri) }
    }
}

/// A browser opening the server's address goes to the console; SDK requests at `/` are the gateway's, as before.
@Suite struct ConsoleRedirectTests {
    func request(_ method: String, query: String = "", headers: [(name: String, value: String)]) -> RPCRequest {
        RPCRequest(method: method, query: query, headers: headers, authority: "127.0.0.1:8080")
    }

    let browser = ("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")

    @Test func aBrowserIsSentToTheConsole() throws {
        let answer = try #require(HTTPRoutes.consoleRedirect(request("GET", headers: [browser])))
        #expect(answer.status == 303)
        #expect(answer.headers.contains { $0.0 == "Location" && $0.1 == "/console" })
        #expect(HTTPRoutes.consoleRedirect(request("GET", query: "utm=x", headers: [("accept", "text/html")])) != nil)
    }

    @Test func anRPCRequestIsNotRedirected() {
        // An Action in the query or the V3 header, a POST, or no HTML asked for: the gateway answers.
        #expect(
            HTTPRoutes.consoleRedirect(request("GET", query: "Action=QueryMessage&To=1", headers: [browser])) == nil
        )
        #expect(HTTPRoutes.consoleRedirect(request("GET", query: "To=1&Action=Q", headers: [browser])) == nil)
        #expect(
            HTTPRoutes.consoleRedirect(request("GET", headers: [browser, ("x-acs-action", "SendMessageToGlobe")]))
                == nil
        )
        #expect(HTTPRoutes.consoleRedirect(request("POST", headers: [browser])) == nil)
        #expect(HTTPRoutes.consoleRedirect(request("GET", headers: [("Accept", "application/json")])) == nil)
        #expect(HTTPRoutes.consoleRedirect(request("GET", headers: [])) == nil)
    }
}
