import NIOCore
import NIOPosix
import Testing

@testable import PetrelDelivery

/// The push client against receivers that misbehave: an answer too long is read only up to its bound, an answer
/// that trickles past the deadline fails on time, and a refused connection fails at once with the reason.
@Suite struct WebhookClientTests {
    /// Accepts connections and writes `answer` (raw HTTP) once per connection, when the request's first bytes
    /// come; `trickle` sends the answer's bytes one every 250 ms.
    struct RawServer {
        let answer: [UInt8]
        let trickle: Bool

        init(answer: String, trickle: Bool = false) {
            self.answer = Array(answer.utf8)
            self.trickle = trickle
        }

        /// One per connection: a request may come in several reads, and answering each would interleave the
        /// trickled bytes into something that is not HTTP.
        final class Answer: ChannelInboundHandler {
            typealias InboundIn = ByteBuffer
            let answer: [UInt8]
            let trickle: Bool
            var answered = false

            init(_ answer: [UInt8], trickle: Bool) {
                self.answer = answer
                self.trickle = trickle
            }

            func channelRead(context: ChannelHandlerContext, data: NIOAny) {
                guard !answered, context.channel.isActive else { return }
                answered = true
                if !trickle {
                    context.writeAndFlush(NIOAny(context.channel.allocator.buffer(bytes: answer)), promise: nil)
                    return
                }
                let channel = context.channel
                for (i, byte) in answer.enumerated() {
                    channel.eventLoop.scheduleTask(in: .milliseconds(Int64(i) * 250)) {
                        channel.writeAndFlush(channel.allocator.buffer(bytes: [byte]), promise: nil)
                    }
                }
            }
        }

        func start() async throws -> any NIOCore.Channel {
            let (answer, trickle) = (self.answer, self.trickle)
            return try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(Answer(answer, trickle: trickle))
                    }
                }
                .bind(host: "127.0.0.1", port: 0).get()
        }
    }

    func post(_ server: any NIOCore.Channel, timeout: TimeAmount = .seconds(5)) async throws -> WebhookClient.Response {
        let endpoint = WebhookClient.Endpoint(host: "127.0.0.1", port: server.localAddress?.port ?? 0, path: "/r")
        return try await WebhookClient().post(endpoint, body: Array("[]".utf8), headers: [], timeout: timeout)
    }

    @Test func aLongAnswerIsReadOnlyUpToItsBound() async throws {
        let big = String(repeating: "x", count: 1 << 20)
        let server = try await RawServer(
            answer: "HTTP/1.1 200 OK\r\nContent-Length: \(big.utf8.count)\r\n\r\n\(big)"
        ).start()
        defer { server.close(promise: nil) }
        // What is asserted is the bound, not the time: a generous deadline, so a loaded machine (CI building beside
        // a parallel test run) does not turn a slow megabyte into a failure.
        let r = try await post(server, timeout: .seconds(30))
        #expect(r.status == 200 && r.body.count == 4096)
    }

    @Test func anAnswerThatTricklesFailsAtTheDeadline() async throws {
        let server = try await RawServer(
            answer: "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n" + String(repeating: "y", count: 50),
            trickle: true
        ).start()
        defer { server.close(promise: nil) }
        let started = ContinuousClock.now
        do {
            _ = try await post(server, timeout: .seconds(2))
            Issue.record("a trickling answer was taken")
        } catch let failure as WebhookClient.Failure {
            #expect(failure.description == "no answer within 2000 ms")
        }
        // Bounded far from both: the 2 s deadline (a loaded CI machine answers late) and the 22 s the trickle takes.
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    @Test func aRefusedConnectionSaysSo() async throws {
        let server = try await RawServer(answer: "").start()
        let port = server.localAddress?.port ?? 0
        try await server.close()
        let endpoint = WebhookClient.Endpoint(host: "127.0.0.1", port: port, path: "/r")
        do {
            _ = try await WebhookClient().post(endpoint, body: [], headers: [], timeout: .seconds(5))
            Issue.record("a closed port answered")
        } catch let failure as WebhookClient.Failure {
            #expect(failure.description.contains("refused the connection"), "\(failure.description)")
        }
    }

    /// The pool fails a connect the deadline cancelled with its own error (seen under load in CI: "cannot connect
    /// to …"); past the deadline the sentence names the time instead.
    @Test func anErrorAfterTheDeadlineIsNamedByTheTime() {
        let endpoint = WebhookClient.Endpoint(host: "127.0.0.1", port: 9, path: "/r")
        let error = ChannelError.ioOnClosedChannel
        let late = WebhookClient.explain(
            error,
            endpoint: endpoint,
            peer: "the receiver",
            timeout: .seconds(2),
            late: true
        )
        let early = WebhookClient.explain(error, endpoint: endpoint, peer: "the receiver", timeout: .seconds(2))
        #expect(late == "no answer within 2000 ms")
        #expect(early == "cannot connect to 127.0.0.1:9")
    }

    @Test func anAnswerThatIsNotHTTPSaysSo() async throws {
        let server = try await RawServer(answer: "HHTTTTPP//11..11  220000\r\n\r\n").start()
        defer { server.close(promise: nil) }
        do {
            _ = try await post(server)
            Issue.record("garbage was taken for an answer")
        } catch let failure as WebhookClient.Failure {
            #expect(failure.description.hasPrefix("the receiver answered with something that is not HTTP/1.1"))
        }
    }
}
