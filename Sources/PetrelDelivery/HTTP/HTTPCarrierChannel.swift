import AsyncHTTPClient
import Logging
import NIOCore
import NIOPosix
public import PetrelCore
import PetrelStore
import Synchronization

/// A carrier reached over an HTTP API (`type: http`): one request per message, built from templates over its
/// fields, the answer read by `HTTPAnswerRules`. At most `concurrency` requests in flight, `tps` per second.
///
/// Temporary failures come back as retries with a growing delay (the dispatcher expires a message whose validity
/// ends meanwhile); after three failures in a row to reach the provider at all, the channel counts as down for
/// that delay, so its routes' next channels take the traffic, and then tries again.
public final class HTTPCarrierChannel: Channel {
    typealias Completion = @Sendable ([(Message, SubmitOutcome)]) -> Void

    public let configuration: HTTPChannelConfiguration
    public var id: String { configuration.id }
    let logger: Logger
    let clock: @Sendable () -> Int64
    let onCapacity: @Sendable () -> Void

    /// Counts since start and the last error in words, for the console and /metrics.
    public struct Health: Sendable, Equatable {
        public var accepted = 0
        public var refused = 0
        public var retried = 0
        public var rerouted = 0
        public var noResponse = 0
        public var lastError = ""
    }

    struct Job {
        let message: Message
        let reply: Completion
    }

    struct State {
        var queue: [Job] = []
        var head = 0
        var inFlight = 0
        var bucket: TokenBucket
        var pumpScheduled = false
        /// Temporary failures in a row (the retry delay doubles with each), and failures to reach the provider.
        var failures = 0
        var unreachable = 0
        var downUntilMs: Int64 = 0
        var stopped = false
        var health = Health()

        var queued: Int { queue.count - head }
    }

    let state: Mutex<State>
    /// Consecutive unreachable answers after which the channel is down for a while.
    static var unreachableLimit: Int { 3 }

    public init(
        configuration: HTTPChannelConfiguration,
        logger: Logger,
        clock: @escaping @Sendable () -> Int64,
        onCapacity: @escaping @Sendable () -> Void = {}
    ) {
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "channel"] = "\(configuration.id)"
        self.logger = logger
        self.clock = clock
        self.onCapacity = onCapacity
        self.state = Mutex(State(bucket: TokenBucket(rate: configuration.tps, nowMs: clock())))
    }

    /// Made at the first request: a client must be shut down before it goes, and a channel that never sends (a
    /// node that does not dispatch, a server that fails to start) then has nothing to shut down.
    private let clientBox = Mutex<HTTPClient?>(nil)

    var client: HTTPClient {
        clientBox.withLock { box in
            if let client = box { return client }
            var http = HTTPClient.Configuration(
                redirectConfiguration: .disallow,
                timeout: .init(
                    connect: .milliseconds(min(configuration.timeoutMs, 10_000)),
                    read: .milliseconds(configuration.timeoutMs)
                ),
                connectionPool: .init(
                    idleTimeout: .seconds(60),
                    concurrentHTTP1ConnectionsPerHostSoftLimit: configuration.concurrency
                )
            )
            http.httpVersion = .http1Only
            let client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: http)
            box = client
            return client
        }
    }

    public var isAvailable: Bool {
        let now = clock()
        return state.withLock { !$0.stopped && $0.downUntilMs <= now }
    }

    /// Room for as many messages again as may be in flight, so the next request starts without waiting a round.
    public var freeCapacity: Int {
        guard isAvailable else { return 0 }
        return state.withLock { max(0, configuration.concurrency * 2 - $0.queued - $0.inFlight) }
    }

    public func waitReason(nowMs: Int64) -> String? {
        state.withLock { s in
            if s.downUntilMs > nowMs {
                return "channel \(id) cannot reach its provider (\(s.health.lastError)); tries again in "
                    + "\(s.downUntilMs - nowMs) ms"
            }
            if s.inFlight >= configuration.concurrency { return "channel \(id) has \(s.inFlight) requests in flight" }
            return nil
        }
    }

    public func healthSnapshot() -> Health { state.withLock { $0.health } }

    /// Requests in flight and waiting, for metrics and the console.
    public func snapshot() -> (inFlight: Int, queued: Int) { state.withLock { ($0.inFlight, $0.queued) } }

    /// The channel's `tps` is for all nodes together: each of `n` live nodes takes its share.
    public func setNodes(_ n: Int) {
        let now = clock()
        state.withLock { $0.bucket = TokenBucket(rate: configuration.tps / Double(max(1, n)), nowMs: now) }
    }

    public func enqueue(
        _ messages: [Message],
        skipParts: [Int64: Set<Int>],
        nowMs: Int64,
        completion: @escaping @Sendable ([(Message, SubmitOutcome)]) -> Void
    ) {
        // One request carries every part, so parts accepted before do not change it.
        let refused = state.withLock { s -> Bool in
            guard !s.stopped else { return true }
            for m in messages { s.queue.append(Job(message: m, reply: completion)) }
            return false
        }
        if refused {
            completion(messages.map { ($0, .retry(afterMs: 1000, accepted: [], reason: "the channel is stopping")) })
            return
        }
        pump()
    }

    /// Starts what the concurrency and the token bucket allow; when the bucket is empty, looks again once it
    /// has a token.
    func pump() {
        let now = clock()
        var jobs: [Job] = []
        var waitMs: Int64?
        state.withLock { s in
            while !s.stopped, s.inFlight < configuration.concurrency, s.queued > 0 {
                if let ms = s.bucket.take(nowMs: now) {
                    if !s.pumpScheduled {
                        s.pumpScheduled = true
                        waitMs = ms
                    }
                    break
                }
                jobs.append(s.queue[s.head])
                s.head += 1
                s.inFlight += 1
            }
            if s.head > 256, s.head * 2 > s.queue.count {
                s.queue.removeFirst(s.head)
                s.head = 0
            }
        }
        for job in jobs { Task { await self.run(job) } }
        if let waitMs {
            Task {
                try? await Task.sleep(for: .milliseconds(waitMs))
                self.state.withLock { $0.pumpScheduled = false }
                self.pump()
            }
        }
    }

    func run(_ job: Job) async {
        let outcome = await submit(job.message)
        state.withLock { $0.inFlight -= 1 }
        job.reply([(job.message, outcome)])
        pump()
        onCapacity()
    }

    /// Stops taking messages, reports the waiting ones for a retry, lets requests in flight finish (their timeout
    /// bounds the wait), then closes the connections.
    public func shutdown() async {
        let waiting = state.withLock { s -> [Job] in
            s.stopped = true
            defer {
                s.queue = []
                s.head = 0
            }
            return Array(s.queue[s.head...])
        }
        for job in waiting {
            job.reply([(job.message, .retry(afterMs: 0, accepted: [], reason: "the server stopped"))])
        }
        let deadline = clock() + configuration.timeoutMs + 1000
        while state.withLock({ $0.inFlight > 0 }), clock() < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        if let client = clientBox.withLock({ $0 }) { try? await client.shutdown() }
    }
}

extension HTTPCarrierChannel {
    /// Where requests go, without the path and query (which may carry a key): `host:port`.
    public var target: String { Self.target(configuration.url.source) }
}
