import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import PetrelCore
import PetrelStore
import Synchronization

/// `petrel-bench --scenarios http-channel`: BatchSendMessageToGlobe → a `type: http` channel → a local fake
/// provider that answers each request with an id at once and POSTs the receipts back to
/// `/carriers/fake/receipts` in batches of 100. Prints messages sent per second (the channel's own work),
/// delivered per second (the callback too) and the connections the channel opened to the provider.
enum HTTPChannelBench {
    static let secret = "bench-callback-secret-0123456789"

    static func run(petrel: String, messages: Int, concurrency: Int, connections: Int) async throws -> String {
        let provider = FakeProvider()
        let providerPort = try await provider.start()
        defer { provider.stop() }
        let config = """
            logLevel: warning
            channels:
              - id: fake
                type: http
                url: http://127.0.0.1:\(providerPort)/send
                json: '{"to": "${to}", "text": "${text}", "ref": "${messageId}"}'
                concurrency: \(concurrency)
                answer: {messageId: $.id}
                receipts: {secret: \(secret), messageId: $.id, status: $.status, delivered: [DELIVRD], failed: [UNDELIV]}
            routes:
              - {channels: [fake]}
            """
        let server = try BenchServer.start(petrel: petrel, config: config)
        defer { server.stop() }
        let callback = "http://\(server.target.host):\(server.target.port)/carriers/fake/receipts"
        let poster = Task { await provider.postReceipts(to: callback) }
        defer { poster.cancel() }

        let per = 1000
        let requests = (messages + per - 1) / per
        let scenario = Scenario.batch(recipients: per, connections: connections)
        let target = server.target
        let source = RequestSource(
            prepared: (0..<requests).map { ByteBuffer(bytes: scenario.encode(target, $0 + 1)) },
            limit: requests
        ) { scenario.encode(target, $0 + 1) }
        let start = ContinuousClock.now
        let cpu0 = (CPUTime.of(pid: nil), CPUTime.of(pid: server.process.processIdentifier))
        let tally = try await LoadClient.run(
            host: target.host,
            port: target.port,
            connections: connections,
            seconds: 3600,
            units: per,
            source: source,
            check: { [expected = scenario.expected] in Scenario.check($0, $1, expected: expected) }
        )
        let accepted = (ContinuousClock.now - start).seconds
        let total = tally.units
        var sentAt: Double?
        var delivered = 0
        while delivered < total {
            try await Task.sleep(for: .milliseconds(20))
            let counts = (try? SQLiteStore.statusCounts(directory: server.dataDir)) ?? [:]
            delivered = counts[.delivered] ?? 0
            let past = (counts[.sent] ?? 0) + delivered + (counts[.failed] ?? 0)
            if sentAt == nil, past >= total { sentAt = (ContinuousClock.now - start).seconds }
            if (ContinuousClock.now - start).seconds > 300 {
                print("bench: http-channel gave up: \(delivered) of \(total) delivered, \(past) sent")
                break
            }
        }
        let elapsed = (ContinuousClock.now - start).seconds
        let cpu = (
            (CPUTime.of(pid: nil) - cpu0.0) / elapsed,
            (CPUTime.of(pid: server.process.processIdentifier) - cpu0.1) / elapsed
        )
        let sent = sentAt ?? elapsed
        return String(
            format:
                "http-channel  %d messages  accepted in %.2f s (%.0f/s)  sent in %.2f s: %.0f/s  delivered in %.2f s: %.0f/s  provider requests %d on %d connections (concurrency %d)  receipt posts %d  errors %d  cpu bench %.2f server %.2f",
            total,
            accepted,
            Double(total) / accepted,
            sent,
            Double(total) / sent,
            elapsed,
            Double(delivered) / elapsed,
            provider.requests,
            provider.connections,
            concurrency,
            provider.posts,
            tally.errors,
            cpu.0,
            cpu.1
        )
    }
}

/// A provider that answers `{"id":"pN"}` at once and later reports each id delivered. The bench process runs
/// it, so its CPU shows as the bench's.
final class FakeProvider: Sendable {
    private struct State {
        var requests = 0
        var connections = 0
        var posts = 0
        var pending: [String] = []
        var channel: (any NIOCore.Channel)?
    }
    private let state = Mutex(State())

    var requests: Int { state.withLock { $0.requests } }
    var connections: Int { state.withLock { $0.connections } }
    var posts: Int { state.withLock { $0.posts } }

    func start() async throws -> Int {
        let ch = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                self.state.withLock { $0.connections += 1 }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(provider: self))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        state.withLock { $0.channel = ch }
        return ch.localAddress?.port ?? 0
    }

    func stop() { state.withLock { $0.channel }?.close(promise: nil) }

    /// The id for one more request.
    func accepted() -> String {
        state.withLock { s in
            s.requests += 1
            let id = "p\(s.requests)"
            s.pending.append(id)
            return id
        }
    }

    /// Sends the receipts of answered requests, 100 per POST, as a provider's callback would.
    func postReceipts(to url: String) async {
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        while !Task.isCancelled {
            let ids: [String] = state.withLock { s in
                let n = min(100, s.pending.count)
                defer { s.pending.removeFirst(n) }
                return Array(s.pending.prefix(n))
            }
            if ids.isEmpty {
                try? await Task.sleep(for: .milliseconds(10))
                continue
            }
            let body = "[" + ids.map { #"{"id":"\#($0)","status":"DELIVRD"}"# }.joined(separator: ",") + "]"
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "X-Petrel-Secret", value: HTTPChannelBench.secret)
            request.body = .bytes(ByteBuffer(string: body))
            do {
                let response = try await client.execute(request, timeout: .seconds(30))
                _ = try await response.body.collect(upTo: 1 << 16)
                if response.status == .ok {
                    state.withLock { $0.posts += 1 }
                } else {
                    state.withLock { $0.pending.insert(contentsOf: ids, at: 0) }
                }
            } catch {
                state.withLock { $0.pending.insert(contentsOf: ids, at: 0) }
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        try? await client.shutdown()
    }

    final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let provider: FakeProvider

        init(provider: FakeProvider) { self.provider = provider }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard case .end = unwrapInboundIn(data) else { return }
            let answer = #"{"id":"\#(provider.accepted())","status":"ACCEPTED"}"#
            context.answerJSON(answer)
        }
    }
}

/// Lives on its channel's event loop only (added with `syncOperations`).
@available(*, unavailable)
extension FakeProvider.Handler: Sendable {}
