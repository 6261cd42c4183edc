import Logging
import NIOCore
import NIOPosix
public import PetrelCore
public import PetrelSMPP
public import PetrelStore
import Synchronization

/// A carrier reached over SMPP 3.4: `sessions` binds (transceiver, or a transmitter and a receiver each), a
/// window of outstanding submit_sm per bind, a token bucket for `tps`, long texts split by `longMessages`.
///
/// All mutable state lives on one event loop; `freeCapacity` and `isAvailable` are mirrored in atomics for the
/// dispatcher. Outcomes are reported per message through the `enqueue` completion.
public final class SMPPChannel: Channel, @unchecked Sendable {
    public let configuration: SMPPChannelConfiguration
    public var id: String { configuration.id }
    let loop: any EventLoop
    let logger: Logger
    let clock: @Sendable () -> Int64
    let receipts: ReceiptProcessor
    /// Called when capacity frees or a bind comes up, so the dispatcher claims more.
    let onCapacity: @Sendable () -> Void

    // Mirrors for other threads.
    private let boundCount = Atomic<Int>(0)
    private let capacity = Atomic<Int>(0)

    // Event-loop state.
    var sessions: [Session] = []
    var queue: [PendingPart] = []
    var queueHead = 0
    var inFlight: [UInt64: PendingPart] = [:]
    var nextToken: UInt64 = 1
    var bucket: TokenBucket
    var pausedUntilMs: Int64 = 0
    var throttleBackoffMs: Int64 = 0
    var pumpScheduled = false
    var stopping = false
    var roundRobin = 0
    var health = Health()
    /// Sessions this node may bind: all of them, or (with `maxBinds`) the slots it holds.
    var allowedSessions: Int
    var nodes = 1

    /// Counts of what went right and wrong since start, and the last error (for the console's channel page).
    public struct Health: Sendable, Equatable {
        public var accepted = 0
        public var refused = 0
        public var noResponse = 0
        public var connectFailures = 0
        public var sessionsClosed = 0
        public var lastError = ""
    }

    public func healthSnapshot() async -> Health {
        (try? await loop.submit { self.health }.get()) ?? Health()
    }

    public init(
        configuration: SMPPChannelConfiguration, receipts: ReceiptProcessor, logger: Logger,
        clock: @escaping @Sendable () -> Int64, onCapacity: @escaping @Sendable () -> Void = {}
    ) {
        self.configuration = configuration
        self.loop = MultiThreadedEventLoopGroup.singleton.next()
        self.receipts = receipts
        var logger = logger
        logger[metadataKey: "channel"] = "\(configuration.id)"
        self.logger = logger
        self.clock = clock
        self.onCapacity = onCapacity
        self.bucket = TokenBucket(rate: configuration.tps, nowMs: clock())
        self.allowedSessions = configuration.maxBinds > 0 ? 0 : configuration.sessions
    }

    /// How many of its sessions this node may bind (the bind slots it holds). Sessions above are unbound; those
    /// below that were waiting for a slot connect.
    public func setAllowedSessions(_ n: Int) {
        loop.execute {
            guard n != self.allowedSessions else { return }
            self.logger.info("bind slots", metadata: ["held": "\(n)", "sessions": "\(self.configuration.sessions)"])
            self.allowedSessions = n
            for s in self.sessions {
                if s.slot < n, s.parked {
                    s.parked = false
                    self.connect(s)
                } else if s.slot >= n {
                    s.handler?.unbind()        // its close parks it
                }
            }
        }
    }

    /// The channel's `tps` is for all nodes together: each of `n` live nodes takes its share.
    public func setNodes(_ n: Int) {
        loop.execute {
            guard n != self.nodes, self.configuration.tps > 0 else { return }
            self.nodes = max(1, n)
            self.bucket = TokenBucket(rate: self.configuration.tps / Double(self.nodes), nowMs: self.clock())
        }
    }

    public var isAvailable: Bool { boundCount.load(ordering: .relaxed) > 0 }

    /// Bound sessions and submits awaiting their answer, for metrics and the console.
    public func snapshot() async -> (bound: Int, sessions: Int, inFlight: Int, window: Int) {
        (try? await loop.submit {
            (self.sessions.filter { $0.handler?.isBound == true }.count, self.sessions.count, self.inFlight.count,
             self.configuration.window * self.configuration.sessions)
        }.get()) ?? (0, 0, 0, 0)
    }
    public var freeCapacity: Int { capacity.load(ordering: .relaxed) }

    /// Opens the binds; they reconnect on their own until `shutdown`.
    public func start() {
        loop.execute {
            let transmitters: BindMode = self.configuration.bind == .transceiver ? .transceiver : .transmitter
            for i in 0..<self.configuration.sessions {
                self.sessions.append(Session(index: self.sessions.count, slot: i, mode: transmitters, name: "\(self.id)#\(i + 1)"))
                if self.configuration.bind == .transmitterReceiver {
                    self.sessions.append(Session(index: self.sessions.count, slot: i, mode: .receiver, name: "\(self.id)#\(i + 1)r"))
                }
            }
            for s in self.sessions { self.connect(s) }
        }
    }

    public func enqueue(
        _ messages: [Message], skipParts: [Int64: Set<Int>], nowMs: Int64,
        completion: @escaping @Sendable ([(Message, SubmitOutcome)]) -> Void
    ) {
        // Counted at once, so the dispatcher's next look at freeCapacity sees these messages.
        capacity.subtract(messages.count, ordering: .relaxed)
        loop.execute {
            for m in messages { self.add(m, skip: skipParts[m.id] ?? [], completion: completion) }
            self.pump()
        }
    }

    func add(_ m: Message, skip: Set<Int>, completion: @escaping @Sendable ([(Message, SubmitOutcome)]) -> Void) {
        let parts: [MessagePart]
        do {
            parts = try MessageParts.make(m.text, mode: configuration.longMessages, reference: UInt16(truncatingIfNeeded: m.id))
        } catch {
            // Too long for this channel's long-message mode (it got past the API's bound, or came from an older
            // version): it fails here rather than trap, and another channel of its route may still take it.
            let job = Job(message: m, total: 0, completion: completion)
            job.failure = (MessageParts.Problem.code, error.description, true)
            finish(job)
            return
        }
        let job = Job(message: m, total: parts.count, completion: completion)
        let todo = parts.filter { !skip.contains($0.index) }
        job.remaining = todo.count
        if todo.isEmpty {
            finish(job)
            return
        }
        // Higher priority goes ahead of queued lower-priority parts (never ahead of what is already in flight), so
        // an OTP waits at most for a window slot, not for the marketing claimed before it.
        let pending = todo.map { PendingPart(job: job, part: $0) }
        if let at = queue[queueHead...].firstIndex(where: { $0.job.message.priority > m.priority }) {
            queue.insert(contentsOf: pending, at: at)
        } else {
            queue.append(contentsOf: pending)
        }
    }

    /// Recomputes the capacity mirror: free window slots of bound transmitters plus three windows' worth of queue
    /// (so claims, which take a commit each, keep ahead of the responses that free the window), minus what
    /// already waits. Priority order inside the queue keeps an OTP from waiting behind it.
    func updateCapacity() {
        var free = 0
        var bound = 0
        for s in sessions where s.handler?.isBound == true {
            if s.mode.canSubmit {
                free += (s.handler?.windowFree ?? 0) + 3 * configuration.window
                bound += 1
            }
        }
        let waiting = queue.count - queueHead
        capacity.store(free - waiting, ordering: .relaxed)
        boundCount.store(bound, ordering: .relaxed)
    }

    public func shutdown() async {
        let done = loop.makePromise(of: Void.self)
        loop.execute {
            self.stopping = true
            self.drain(deadline: self.clock() + 5000, done: done)
        }
        try? await done.futureResult.get()
    }

    /// Waits for the windows to empty (or the deadline), then unbinds every session.
    func drain(deadline: Int64, done: EventLoopPromise<Void>) {
        if (inFlight.isEmpty && queue.count == queueHead) || clock() >= deadline {
            for (_, p) in inFlight { p.job.noteRetry(afterMs: 1000) }
            inFlight.removeAll()
            for p in queue[queueHead...] { p.job.noteRetry(afterMs: 1000) }
            queue.removeAll()
            queueHead = 0
            for s in sessions { s.handler?.unbind() }
            loop.scheduleTask(in: .milliseconds(300)) {
                for s in self.sessions { s.channel?.close(promise: nil) }
                done.succeed(())
            }
            return
        }
        loop.scheduleTask(in: .milliseconds(50)) { self.drain(deadline: deadline, done: done) }
    }
}
