import NIOCore
import NIOEmbedded
import NIOHTTP1
import PetrelCore
import Synchronization
import Testing

@testable import PetrelAPI
@testable import PetrelServer

/// The door's connection state machine, driven without I/O and with a clock of our own.
@Suite struct HTTPConnectionStateMachineTests {
    typealias Machine = HTTPConnectionStateMachine
    static let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000_000)
    static let configuration = Machine.Configuration(
        maxHead: 16_384,
        maxBody: 1_000,
        headTimeout: .seconds(10),
        bodyTimeout: .seconds(30),
        idleTimeout: .seconds(60)
    )

    func at(_ seconds: Int64) -> NIODeadline { Self.t0 + .seconds(seconds) }
    func bytes(_ s: String) -> ByteBuffer { ByteBuffer(string: s) }
    func get(_ n: Int) -> String { "GET /?n=\(n) HTTP/1.1\r\nHost: x\r\n\r\n" }

    func served(_ action: Machine.Action) -> String? {
        if case .serve(let request) = action { return request.query }
        return nil
    }

    func isClose(_ action: Machine.Action) -> Bool {
        if case .close = action { return true }
        return false
    }

    func isNone(_ action: Machine.Action) -> Bool {
        if case .none = action { return true }
        return false
    }

    func forwarded(_ action: Machine.Action) -> String? {
        if case .forward(let b) = action { return String(buffer: b) }
        return nil
    }

    /// A request that arrives a few bytes at a time is served once whole (head searched where it left off, body
    /// awaited by its length), and a large plain head (a 1,000-recipient batch) stays on the fast path.
    @Test func requestsInSmallReadsAndLargeHeadsAreServedHere() {
        var m = Machine(configuration: Self.configuration, now: at(0))
        let body = "To=85291234567&Message=hi"
        let request = "POST /?Action=x HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body
        var servedAt: Int?
        for (i, ch) in request.enumerated() {
            let a = m.read(bytes(String(ch)), now: at(0))
            if served(a) != nil { servedAt = i }
        }
        #expect(servedAt == request.count - 1)
        m.answerQueued()
        _ = m.answered(now: at(0))

        let query = "Action=SendBatch&To=" + String(repeating: "%2285291234567%22%2C", count: 700)
        let big = "POST /?\(query) HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
        var large = Machine(
            configuration: Machine.Configuration(
                maxHead: 256 * 1024,
                maxBody: 1_000,
                headTimeout: .seconds(10),
                bodyTimeout: .seconds(30),
                idleTimeout: .seconds(60)
            ),
            now: at(0)
        )
        var action = Machine.Action.none
        for chunk in stride(from: 0, to: big.utf8.count, by: 1_000) {
            let slice = Array(big.utf8)[chunk..<min(chunk + 1_000, big.utf8.count)]
            action = large.read(ByteBuffer(bytes: slice), now: at(0))
        }
        #expect(served(action) == query)
    }

    /// F2: a client that pipelines and never reads. Once the socket stops taking answers (or a few wait for it),
    /// no further request is served and nothing more is read, so answers cannot pile up in memory.
    @Test func pipelinedRequestsWaitWhileTheSocketTakesNoAnswers() {
        var m = Machine(configuration: Self.configuration, now: at(0))
        let v1 = m.read(bytes(get(1) + get(2) + get(3)), now: at(0))
        #expect(served(v1) == "n=1")
        m.answerQueued()
        let v2 = m.answered(now: at(0))
        #expect(served(v2) == "n=2")
        m.answerQueued()
        let v3 = m.writabilityChanged(false, now: at(0))
        #expect(isNone(v3))
        let v4 = m.answered(now: at(0))
        #expect(isNone(v4))  // n=3 waits: the socket is full
        let v5 = m.readRequested()
        #expect(!v5)  // and nothing more is read
        let v6 = m.takePendingRead()
        #expect(!v6)
        let v7 = m.writabilityChanged(true, now: at(1))
        #expect(served(v7) == "n=3")
        let v8 = m.takePendingRead()
        #expect(v8)  // the withheld read goes now

        // Too many answers queued has the same effect, whatever the writability.
        var q = Machine(configuration: Self.configuration, now: at(0))
        _ = q.read(bytes(get(1) + get(2)), now: at(0))
        for _ in 0..<Self.configuration.maxQueuedAnswers { q.answerQueued() }
        let v9 = q.answered(now: at(0))
        #expect(isNone(v9))
        let v10 = q.readRequested()
        #expect(!v10)
        let v11 = q.answerFlushed(now: at(0))
        #expect(served(v11) == "n=2")

        // While one is served, only maxHeld bytes are read ahead.
        var r = Machine(configuration: Self.configuration, now: at(0))
        _ = r.read(bytes(get(1) + String(repeating: get(9), count: 3_000)), now: at(0))
        let v12 = r.readRequested()
        #expect(!v12)
    }

    /// F2/F3: a client that neither reads its answers nor stops sending is closed by the head deadline of the request
    /// that waits.
    @Test func aConnectionStuckOnItsOwnAnswersIsClosedInTime() {
        var m = Machine(configuration: Self.configuration, now: at(0))
        _ = m.read(bytes(get(1) + get(2)), now: at(0))
        m.answerQueued()
        _ = m.writabilityChanged(false, now: at(0))
        _ = m.answered(now: at(0))
        let v13 = m.tick(now: at(9))
        #expect(isNone(v13))
        let v14 = m.tick(now: at(10))
        #expect(isClose(v14))
    }

    /// F3: a head, and then a body, that never complete are cut off by their deadlines, however steadily they trickle.
    @Test func slowHeadsAndBodiesMeetTheirDeadlines() {
        var m = Machine(configuration: Self.configuration, now: at(0))
        let v15 = m.read(bytes("POST /?a=1 HTTP/1.1\r\n"), now: at(0))
        #expect(isNone(v15))
        for s in 1...9 {
            let v16 = m.read(bytes("X: y\r\n"), now: at(Int64(s)))
            #expect(isNone(v16))
        }
        let v17 = m.tick(now: at(9))
        #expect(isNone(v17))
        let v18 = m.tick(now: at(10))
        #expect(isClose(v18))

        var b = Machine(configuration: Self.configuration, now: at(0))
        let v19 = b.read(bytes("POST /?a=1 HTTP/1.1\r\nContent-Length: 100\r\n\r\nab"), now: at(0))
        #expect(isNone(v19))
        for s in 1...29 {
            let v20 = b.read(bytes("c"), now: at(Int64(s)))
            #expect(isNone(v20))
        }
        let v21 = b.tick(now: at(29))
        #expect(isNone(v21))
        let v22 = b.tick(now: at(30))
        #expect(isClose(v22))
    }

    /// F3: the same deadlines apply to requests handed to Hummingbird (here a console login whose body stalls), and
    /// a connection nobody uses is closed after the idle timeout.
    @Test func hummingbirdsRequestsMeetTheSameDeadlines() {
        var m = Machine(configuration: Self.configuration, now: at(0))
        let head = "POST /console/login HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\n\r\nuser=a"
        let v23 = m.read(bytes(head), now: at(0))
        #expect(forwarded(v23) == head)
        for s in 1...29 {
            let v24 = m.read(bytes("b"), now: at(Int64(s)))
            #expect(forwarded(v24) == "b")
        }
        let v25 = m.tick(now: at(29))
        #expect(isNone(v25))
        let v26 = m.tick(now: at(30))
        #expect(isClose(v26))

        var h = Machine(configuration: Self.configuration, now: at(0))
        let v27 = h.read(bytes("GET /healthz HTTP/1.1\r\n"), now: at(0))
        #expect(isNone(v27))  // which route is not known yet
        let v28 = h.tick(now: at(10))
        #expect(isClose(v28))

        // Complete and answered: only the idle timeout is left.
        var i = Machine(configuration: Self.configuration, now: at(0))
        _ = i.read(bytes("GET /healthz HTTP/1.1\r\n\r\n"), now: at(0))
        let v29 = i.tick(now: at(100))
        #expect(isNone(v29))  // Hummingbird owes the answer
        i.responseHead(status: 200, now: at(100))
        _ = i.responseEnd(now: at(100))
        let v30 = i.tick(now: at(159))
        #expect(isNone(v30))
        let v31 = i.tick(now: at(160))
        #expect(isClose(v31))
    }

    /// Hummingbird gets one request at a time: the next waits for the response to the one before.
    @Test func hummingbirdsPipelinedRequestsGoOneAtATime() {
        var m = Machine(configuration: Self.configuration, now: at(0))
        let one = "GET /healthz HTTP/1.1\r\n\r\n"
        let two = "POST /console/login HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
        let v32 = m.read(bytes(one + two + "GET /me"), now: at(0))
        #expect(forwarded(v32) == one)
        m.responseHead(status: 200, now: at(1))
        let v33 = m.responseEnd(now: at(1))
        #expect(forwarded(v33) == two)
        let v34 = m.responseEnd(now: at(2))
        #expect(forwarded(v34) == "GET /me")
    }

    /// F15: after the client shuts its side, what it sent is still answered, and then the connection closes.
    @Test func halfClosedConnectionsGetTheirAnswers() {
        var m = Machine(configuration: Self.configuration, now: at(0))
        let v35 = m.read(bytes(get(1) + get(2)), now: at(0))
        #expect(served(v35) == "n=1")
        let v36 = m.inputClosed(now: at(0))
        #expect(isNone(v36))  // n=1 is in flight
        let v37 = m.answered(now: at(0))
        #expect(served(v37) == "n=2")  // the held one is served too
        let v38 = m.answered(now: at(0))
        #expect(isClose(v38))

        var w = Machine(configuration: Self.configuration, now: at(0))
        let v39 = w.read(bytes("GET /?n=1 HTTP/1.1\r\n"), now: at(0))
        #expect(isNone(v39))
        let v40 = w.inputClosed(now: at(0))
        #expect(isClose(v40))  // half a request can never complete
    }

    /// F15 on Hummingbird's side: its requests held back behind a response still go to it after the half-close,
    /// and only then is it told that the input ended.
    @Test func hummingbirdHearsOfTheHalfCloseAfterItsHeldRequests() {
        var m = Machine(configuration: Self.configuration, now: at(0))
        let one = "GET /healthz HTTP/1.1\r\n\r\n"
        let two = "GET /metrics HTTP/1.1\r\n\r\n"
        let first = m.read(bytes(one + two), now: at(0))
        #expect(forwarded(first) == one)
        let closed = m.inputClosed(now: at(0))
        #expect(isNone(closed))  // not yet: /metrics is still held
        let early = m.takeInputClosed()
        #expect(!early)
        let next = m.responseEnd(now: at(1))
        #expect(forwarded(next) == two)
        let now = m.takeInputClosed()
        let again = m.takeInputClosed()
        #expect(now && !again)  // once
    }

    /// A plain RPC request whose body is over the limit is read past (not held) and answered 413; the connection
    /// carries on with the next request.
    @Test func oversizedBodiesAreSkippedAndRefused() {
        var m = Machine(configuration: Self.configuration, now: at(0))
        let v41 = m.read(bytes("POST /?a=1 HTTP/1.1\r\nContent-Length: 2000\r\n\r\n"), now: at(0))
        #expect(isNone(v41))
        let v42 = m.read(ByteBuffer(repeating: 0x61, count: 1_500), now: at(0))
        #expect(isNone(v42))
        let v43 = m.readRequested()
        #expect(v43)
        guard case .answerTooLarge = m.read(ByteBuffer(repeating: 0x61, count: 500) + bytes(get(2)), now: at(0)) else {
            Issue.record("no 413")
            return
        }
        #expect(!m.answering())
        let v44 = m.answered(now: at(0))
        #expect(served(v44) == "n=2")
    }

    @Test func quiescingClosesIdleConnectionsAndBusyOnesAfterTheirAnswer() {
        var idle = Machine(configuration: Self.configuration, now: at(0))
        let v45 = idle.quiesce()
        #expect(isClose(v45))
        var busy = Machine(configuration: Self.configuration, now: at(0))
        _ = busy.read(bytes(get(1)), now: at(0))
        let v46 = busy.quiesce()
        #expect(isNone(v46))
        #expect(busy.answering())
    }

    /// F3: connections over the limit get a 503 and are closed; the ones within it are served.
    @Test func connectionsOverTheLimitGet503() throws {
        let gauge = ConnectionGauge(limit: 1) {
            Gateway.errorResponse(.serviceUnavailable, requestId: "r", hostId: "h", format: .json, action: "")
        }
        func door() -> HTTPDoor {
            HTTPDoor(
                configuration: Self.configuration,
                gauge: gauge,
                serve: { _, answer in
                    answer(
                        RPCResponse(
                            status: 200,
                            headers: [],
                            body: Array("{}".utf8),
                            action: "",
                            code: "OK",
                            requestId: ""
                        )
                    )
                },
                bodyTooLarge: { RPCResponse(status: 413, headers: [], body: [], action: "", code: "", requestId: "") }
            )
        }
        let first = try channel(with: door())
        let second = try channel(with: door())
        let refusal = try #require(try second.readOutbound(as: IOData.self))
        guard case .byteBuffer(let b) = refusal else { throw Refused() }
        #expect(String(buffer: b).hasPrefix("HTTP/1.1 503 Service Unavailable\r\n"))
        #expect(String(buffer: b).contains(#""Code":"ServiceUnavailable""#))
        try first.writeInbound(ByteBuffer(string: get(1)))
        guard case .byteBuffer(let ok)? = try first.readOutbound(as: IOData.self) else { throw Refused() }
        #expect(String(buffer: ok).hasPrefix("HTTP/1.1 200 OK"))
        _ = try second.finish(acceptAlreadyClosed: true)
        #expect(gauge.count == 1)
        _ = try first.finish(acceptAlreadyClosed: true)
        #expect(gauge.count == 0)
    }

    /// F15 through the handler: a request answered later still gets its answer after the client's half-close.
    @Test func theDoorAnswersAfterHalfClose() throws {
        let answers = Mutex<[@Sendable (RPCResponse) -> Void]>([])
        let door = HTTPDoor(
            configuration: Self.configuration,
            serve: { _, answer in answers.withLock { $0.append(answer) } },
            bodyTooLarge: { RPCResponse(status: 413, headers: [], body: [], action: "", code: "", requestId: "") }
        )
        let channel = try channel(with: door)
        try channel.writeInbound(ByteBuffer(string: get(1)))
        channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(channel.isActive)
        answers.withLock { $0[0] }(
            RPCResponse(status: 200, headers: [], body: Array("{}".utf8), action: "", code: "OK", requestId: "")
        )
        channel.embeddedEventLoop.run()
        guard case .byteBuffer(let b)? = try channel.readOutbound(as: IOData.self) else { throw Refused() }
        #expect(String(buffer: b).hasPrefix("HTTP/1.1 200 OK"))
        #expect(!channel.isActive)
    }

    struct Refused: Error {}

    private func channel(with door: HTTPDoor) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.configureHTTPServerPipeline(
            withPipeliningAssistance: false,
            withErrorHandling: false
        )
        try door.install(in: channel.pipeline.syncOperations)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }
}

private func + (a: ByteBuffer, b: ByteBuffer) -> ByteBuffer {
    var a = a
    var b = b
    a.writeBuffer(&b)
    return a
}
