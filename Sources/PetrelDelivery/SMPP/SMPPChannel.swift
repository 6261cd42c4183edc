import Logging
import NIOCore
import NIOPosix
import NIOSSL
public import PetrelCore
import PetrelSMPP
import PetrelStore
import Synchronization

/// A carrier reached over SMPP 3.4: `sessions` binds (transceiver, or a transmitter and a receiver each), a
/// window of outstanding submit_sm per bind, a token bucket for `tps`, long texts split by `longMessages`.
///
/// Every decision (queue, window, pauses, token bucket, reconnects, drain) is made by a `SubmitScheduler`; the
/// channel carries out its actions with sockets and timers. Outcomes are reported per message through the
/// `enqueue` completion.
///
/// `@unchecked Sendable`: the mutable state (`machine`, `links`, `stopWaiters`) is only touched on `loop`, the
/// event loop every session's connection also runs on (each public method hops there first); `freeCapacity` and
/// `isAvailable` are mirrored in atomics for the dispatcher's threads.
public final class SMPPChannel: Channel, @unchecked Sendable {
    typealias Completion = @Sendable ([(Message, SubmitOutcome)]) -> Void

    public let configuration: SMPPChannelConfiguration
    public var id: String { configuration.id }
    let loop: any EventLoop
    let logger: Logger
    let clock: @Sendable () -> Int64
    let receipts: ReceiptProcessor
    /// Where deliver_sm that are not receipts go; nil: answered and dropped.
    let inbound: InboundProcessor?
    /// Called when capacity frees or a bind comes up, so the dispatcher claims more.
    let onCapacity: @Sendable () -> Void

    // Mirrors for other threads.
    let boundCount = Atomic<Int>(0)
    let capacity = Atomic<Int>(0)
    let pausedUntil = Atomic<Int64>(0)

    // Event-loop state.
    /// Made at the first TLS connect (it reads the CA and certificate files), then shared by every session.
    var tlsContext: NIOSSLContext?
    var machine: SubmitScheduler<Completion>
    /// The connection of each of the machine's sessions (same index).
    var links: [Link]
    var stopWaiters: [EventLoopPromise<Void>] = []

    struct Link {
        let name: String
        var handler: SMPPClientHandler?
        var channel: (any NIOCore.Channel)?
        /// Submits written and not flushed yet.
        var unflushed = false
    }

    /// Counts of what went right and wrong since start, and the last error (for the console's channel page).
    public struct Health: Sendable, Equatable {
        public var accepted = 0
        public var refused = 0
        public var noResponse = 0
        public var connectFailures = 0
        public var sessionsClosed = 0
        public var lastError = ""
        /// The kind of the last link failure while no session is bound; `.none` once one binds.
        public var problem = LinkProblem.none
    }

    public func healthSnapshot() async -> Health {
        (try? await loop.submit { self.machine.health }.get()) ?? Health()
    }

    public init(
        configuration: SMPPChannelConfiguration,
        receipts: ReceiptProcessor,
        inbound: InboundProcessor? = nil,
        logger: Logger,
        clock: @escaping @Sendable () -> Int64,
        onCapacity: @escaping @Sendable () -> Void = {}
    ) {
        self.configuration = configuration
        self.loop = MultiThreadedEventLoopGroup.singleton.next()
        self.receipts = receipts
        self.inbound = inbound
        var logger = logger
        logger[metadataKey: "channel"] = "\(configuration.id)"
        self.logger = logger
        self.clock = clock
        self.onCapacity = onCapacity
        let machine = SubmitScheduler<Completion>(configuration: configuration, nowMs: clock())
        // A loop, not `map`: Swift 6.3's optimizer crashes (CopyPropagation, "outside of lifetime use") on the
        // error path of a (rethrowing) `map` here, where it would deinitialize the atomics of a partial `self`.
        var links: [Link] = []
        for s in machine.sessions {
            links.append(Link(name: "\(configuration.id)#\(s.slot + 1)\(s.mode == .receiver ? "r" : "")"))
        }
        self.machine = machine
        self.links = links
    }

    /// How many of its sessions this node may bind (the bind slots it holds). Sessions above are unbound; those
    /// below that were waiting for a slot connect.
    public func setAllowedSessions(_ n: Int) {
        loop.execute {
            guard self.machine.setAllowedSessions(n) else { return }
            self.logger.info("bind slots", metadata: ["held": "\(n)", "sessions": "\(self.configuration.sessions)"])
            self.run()
        }
    }

    /// The channel's `tps` is for all nodes together: each of `n` live nodes takes its share.
    public func setNodes(_ n: Int) {
        loop.execute {
            self.machine.setNodes(n, nowMs: self.clock())
            self.run()
        }
    }

    public var isAvailable: Bool { boundCount.load(ordering: .relaxed) > 0 }

    /// Bound sessions and submits awaiting their answer, for metrics and the console.
    public func snapshot() async -> (bound: Int, sessions: Int, inFlight: Int, window: Int) {
        (try? await loop.submit {
            (
                self.machine.boundSessions, self.links.count, self.machine.inFlightCount,
                self.configuration.window * self.configuration.sessions
            )
        }.get()) ?? (0, 0, 0, 0)
    }
    public var freeCapacity: Int { capacity.load(ordering: .relaxed) }

    public func waitReason(nowMs: Int64) -> String? {
        let paused = pausedUntil.load(ordering: .relaxed)
        if paused > nowMs { return "channel \(id) is throttled by the carrier for \(paused - nowMs) ms" }
        if !isAvailable { return "channel \(id) has no bound session" }
        if freeCapacity <= 0 { return "channel \(id)'s window is full" }
        return nil
    }

    /// Opens the binds; they reconnect on their own until `shutdown`.
    public func start() {
        loop.execute {
            self.machine.start()
            self.run()
        }
    }

    public func enqueue(
        _ messages: [Message],
        skipParts: [Int64: Set<Int>],
        nowMs: Int64,
        completion: @escaping @Sendable ([(Message, SubmitOutcome)]) -> Void
    ) {
        // Counted at once, so the dispatcher's next look at freeCapacity sees these messages.
        capacity.subtract(messages.count, ordering: .relaxed)
        loop.execute {
            let now = self.clock()
            for m in messages { self.machine.add(m, skipParts: skipParts[m.id] ?? [], reply: completion, nowMs: now) }
            self.run(nowMs: now)
        }
    }

    /// Drains (the windows empty, or 5 s pass), reports what is left for a retry, then unbinds every session.
    public func shutdown() async {
        let done = loop.makePromise(of: Void.self)
        loop.execute {
            guard !self.machine.isStopped else {
                done.succeed(())
                return
            }
            self.stopWaiters.append(done)
            self.machine.shutdown(nowMs: self.clock())
            self.run()
        }
        try? await done.futureResult.get()
    }
}
