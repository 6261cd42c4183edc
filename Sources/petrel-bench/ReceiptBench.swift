import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import PetrelCore
import PetrelDelivery
import PetrelServer
import PetrelStore
import Synchronization

/// `petrel-bench --scenarios receipts`: messages reach `delivered` in the store while the receipt pusher sends
/// their receipts to a local HTTP receiver. Prints receipts per second and the lag from status change to arrival.
enum ReceiptBench {
    static func run(messages: Int, batchSize: Int, rate: Int) async throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "petrel-receiptbench-\(UUID().uuidString)"
        ).path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try await DataDirectory.openStore(
            path: dir,
            environment: ["PETREL_MASTER_KEY": String(repeating: "cd", count: 32)]
        )
        let receiver = BenchReceiver()
        let port = try await receiver.start()
        try await store.putAccount(
            AccountRecord(
                name: "default",
                receiptURL: "http://127.0.0.1:\(port)/r",
                webhookSecret: "bench-secret",
                updatedAtMs: 0
            )
        )

        let ids = MessageIDGenerator()
        let start = PetrelServer.now()
        for chunk in stride(from: 0, to: messages, by: 1000) {
            let batch = ids.next(min(1000, messages - chunk), nowMs: start).map {
                Message(
                    id: $0,
                    account: "default",
                    to: Scenario.number(Int($0 & 0xFFFF)),
                    text: "Your order has shipped",
                    createdAtMs: start
                )
            }
            try await store.commit(WriteBatch(messages: batch))
        }
        var claimed: [Message] = []
        while true {
            let c = try await store.claim(limit: 1000, nowMs: start + 1, leaseMs: 600_000)
            if c.isEmpty { break }
            claimed += c
        }
        var sent = DispatchResults()
        sent.sent = claimed.map {
            SentRecord(id: $0.id, channel: "bench", carrierMessageId: "", sentAtMs: start + 1, parts: [])
        }
        try await store.record(sent)

        var configuration = ReceiptPusher.Configuration()
        configuration.batchSize = batchSize
        configuration.pollMs = 50
        configuration.maxWaitMs = 200
        let pusher = ReceiptPusher(
            store: store,
            configuration: configuration,
            logger: Logger(label: "bench"),
            clock: { PetrelServer.now() }
        )
        let pushing = Task { try await pusher.run() }

        // Deliver in slices of 1,000 at `rate` a second, as a carrier's receipts would come in.
        let began = ContinuousClock.now
        for (n, chunk) in stride(from: 0, to: claimed.count, by: 1000).enumerated() {
            let at = PetrelServer.now()
            receiver.delivered(claimed[chunk..<min(chunk + 1000, claimed.count)].map(\.id), atMs: at)
            try await store.apply(
                claimed[chunk..<min(chunk + 1000, claimed.count)].map {
                    StatusUpdate(id: $0.id, status: .delivered, atMs: at)
                }
            )
            let due = began + .milliseconds(1_000_000 * (n + 1) / max(rate, 1))
            if ContinuousClock.now < due { try await Task.sleep(until: due) }
        }
        let deadline = ContinuousClock.now + .seconds(120)
        while receiver.count < messages && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        let seconds = (ContinuousClock.now - began).seconds
        pushing.cancel()
        _ = await pushing.result
        let lags = receiver.lags.sorted()
        func pct(_ p: Double) -> Int64 { lags.isEmpty ? -1 : lags[min(lags.count - 1, Int(Double(lags.count) * p))] }
        try await store.close()
        try await receiver.stop()
        return String(
            format:
                "receipts  %d delivered at %d/s, %d received (%d POSTs of up to %d) in %.2f s: %.0f receipts/s  lag p50 %lld ms p99 %lld ms",
            messages,
            rate,
            receiver.count,
            receiver.posts,
            batchSize,
            seconds,
            Double(receiver.count) / seconds,
            pct(0.5),
            pct(0.99)
        )
    }
}

/// A local receiver answering `{"code":0}`. It measures each report's lag from the millisecond the bench made
/// the message delivered (a report's `ReceiveDate` has whole seconds only).
final class BenchReceiver: Sendable {
    private let state = Mutex<(doneAt: [Int64: Int64], seen: Set<Int64>, lags: [Int64], posts: Int)>(([:], [], [], 0))
    private let channel = Mutex<(any NIOCore.Channel)?>(nil)

    var count: Int { state.withLock { $0.seen.count } }
    var posts: Int { state.withLock { $0.posts } }
    var lags: [Int64] { state.withLock { $0.lags } }

    func delivered(_ ids: [Int64], atMs: Int64) {
        state.withLock { s in for id in ids { s.doneAt[id] = atMs } }
    }

    func start() async throws -> Int {
        let ch = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(receiver: self))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        channel.withLock { $0 = ch }
        return ch.localAddress?.port ?? 0
    }

    func stop() async throws { try await channel.withLock { $0 }?.close() }

    func received(_ body: [UInt8]) {
        let now = PetrelServer.now()
        guard let reports = try? JSONSerialization.jsonObject(with: Data(body)) as? [[String: String]] else { return }
        state.withLock { s in
            s.posts += 1
            for r in reports {
                guard let id = r["MessageId"].flatMap({ Int64($0) }), s.seen.insert(id).inserted,
                    let done = s.doneAt[id]
                else { continue }
                s.lags.append(now - done)
            }
        }
    }

    final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let receiver: BenchReceiver
        var body: [UInt8] = []

        init(receiver: BenchReceiver) { self.receiver = receiver }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head: body = []
            case .body(let b): body += b.readableBytesView
            case .end:
                receiver.received(body)
                let answer = #"{"code":0,"msg":"The message is received."}"#
                context.answerJSON(answer)
            }
        }
    }
}

/// Lives on its channel's event loop only (added with `syncOperations`).
@available(*, unavailable)
extension BenchReceiver.Handler: Sendable {}

extension ChannelHandlerContext {
    /// 200 with `answer` as a JSON body: what the bench's receivers and fake provider send back.
    func answerJSON(_ answer: String) {
        var head = HTTPResponseHead(version: .http1_1, status: .ok)
        head.headers.add(name: "Content-Type", value: "application/json")
        head.headers.add(name: "Content-Length", value: String(answer.utf8.count))
        write(NIOAny(HTTPServerResponsePart.head(head)), promise: nil)
        write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(channel.allocator.buffer(string: answer)))), promise: nil)
        writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)), promise: nil)
    }
}
