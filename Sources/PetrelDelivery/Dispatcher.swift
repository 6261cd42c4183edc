public import Logging
public import PetrelCore
public import PetrelStore
public import ServiceLifecycle
import Synchronization

/// Moves queued messages to their channels and records what the channels answer.
///
/// Each round: record the outcomes channels reported since the last round (rerouting refusals to the next
/// channel of the route), apply scheduled receipts that are due, then claim as many queued messages as the
/// channels have room for, highest priority first, and hand them over. Claims are small (at most the free
/// window), so an OTP never waits behind a long marketing queue for more than a window's round trip. A claim
/// whose lease runs out (a crash between claim and record) returns to the queue: delivery is at least once.
public final class Dispatcher: Service {
    public struct Configuration: Sendable {
        public var batchSize = 1000
        public var pollMs: Int64 = 100
        public var leaseMs: Int64 = 300_000
        /// When every channel of a message's route is down, look again after this long.
        public var waitForChannelMs: Int64 = 1000
        /// After a wake-up, wait this long so one round takes what arrived together (fewer, larger transactions).
        public var lingerMs: Int64 = 2
        /// How often the queue is swept for expired messages and lost leases.
        public var sweepIntervalMs: Int64 = 1000

        public init() {}
    }

    let store: any SendQueue
    let channels: [String: any Channel]
    /// The in-process channels among them (see `sendNow`).
    let instant: [String: any InstantChannel]
    let router: MessageRouter
    let routed: Set<String>
    let clock: @Sendable () -> Int64
    let logger: Logger
    let configuration: Configuration
    let wake: WakeSignal
    private let lastSweep = Mutex<Int64>(0)
    /// Outcomes reported by channels, waiting to be recorded.
    private let reported = Mutex<[(Message, String, SubmitOutcome)]>([])
    /// Outcomes channels reported that are not yet recorded: their messages still count against the room to claim
    /// more, so what a crash can leave handed over but unrecorded stays within the channels' capacity.
    private let unrecorded = Atomic<Int>(0)
    /// How far reported outcomes are recorded (`waitForRecords`).
    private let progress = RecordProgress()
    /// Whose turn it is to record (`recordReported`).
    private let recording = Turn()
    /// Channels each in-flight message has tried, for rerouting.
    private let tried = Mutex<[Int64: [String]]>([:])

    public init(
        store: any SendQueue,
        channels: [any Channel],
        router: MessageRouter = MessageRouter(),
        configuration: Configuration = Configuration(),
        wake: WakeSignal = WakeSignal(),
        logger: Logger,
        clock: @escaping @Sendable () -> Int64
    ) {
        self.wake = wake
        self.store = store
        var byId: [String: any Channel] = [:]
        for c in channels { byId[c.id] = c }
        self.channels = byId
        self.instant = byId.compactMapValues { $0 as? any InstantChannel }
        self.router = router
        self.routed = Set(router.routes.flatMap(\.channels))
        self.configuration = configuration
        self.logger = logger
        self.clock = clock
    }

    /// New messages are waiting, or a channel has room again.
    public func notify() { wake.signal() }

    /// The receipts' barrier: when one of `receipts` names a carrier id a channel reported but this node has not
    /// recorded yet (a receipt right after its `submit_sm_resp`), records what is reported now and returns once
    /// every outcome reported before the call is recorded, or after `timeoutMs`; at once otherwise. Recording here
    /// rather than waiting for the next round keeps such receipts as cheap as late ones: a round may be claiming,
    /// and lingers before it records.
    public func waitForRecords(of receipts: [CarrierReceipt], timeoutMs: Int64 = 500) async {
        guard progress.awaited(receipts) else { return }
        do {
            try await recordReported()
        } catch {
            // The round will try again; the receipts wait for it as before, within `timeoutMs`.
            wake.signal()
        }
        await progress.waitForRecords(timeoutMs: timeoutMs)
    }

    public func run() async throws {
        // Claims left by a previous run of this node: submit them again. (Other nodes' claims stay theirs.)
        let requeued = try await store.requeueOwnLeases()
        if requeued > 0 {
            logger.info("requeued messages claimed before a restart", metadata: ["count": "\(requeued)"])
        }
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    if try await self.round() { continue }
                } catch is CancellationError {
                    break
                } catch {
                    if Task.isCancelled { break }
                    self.logger.error("dispatch round failed", metadata: ["error": "\(error)"])
                }
                await self.wake.wait(timeoutMs: self.configuration.pollMs)
                try? await Task.sleep(for: .milliseconds(self.configuration.lingerMs))
            }
        }
        // Drain: let channels finish their windows, then record what they reported.
        for channel in channels.values { await channel.shutdown() }
        _ = try? await recordReported()
    }

    /// One round; true when there may be more work right away.
    public func round() async throws -> Bool {
        let now = clock()
        // Independent writes: submitted together they share one commit.
        async let recorded: Void = recordReported()
        async let dueReceipts = store.applyDueReceipts(nowMs: now, limit: configuration.batchSize)
        try await recorded
        let due = try await dueReceipts
        if lastSweep.withLock({ last in
            guard now - last >= configuration.sweepIntervalMs else { return false }
            last = now
            return true
        }) {
            _ = try await store.expireQueued(nowMs: now)
            _ = try await store.requeueExpiredLeases(nowMs: now)
        }
        // Room on the channels routes lead to (a channel no route names only takes messages that ask for it).
        let room =
            channels.values.filter { $0.isAvailable && routed.contains($0.id) }.reduce(0) {
                $0 + max(0, $1.freeCapacity)
            }
            - unrecorded.load(ordering: .relaxed)
        guard room > 0 else { return due.count == configuration.batchSize }
        let claimedAt = clock()
        let (claimed, sentNow) = try await store.claim(
            limit: min(room, configuration.batchSize),
            nowMs: now,
            leaseMs: configuration.leaseMs,
            sendNow: { [self] in sendNow($0, nowMs: now) }
        )
        if !claimed.isEmpty { try await dispatch(claimed, nowMs: now) }
        logger.trace(
            "round",
            metadata: [
                "recordMs": "\(claimedAt - now)", "claimMs": "\(clock() - claimedAt)", "room": "\(room)",
                "claimed": "\(claimed.count + sentNow)",
            ]
        )
        return claimed.count + sentNow == configuration.batchSize || due.count == configuration.batchSize
    }

    /// Routes messages and hands them to channels; what cannot go anywhere is recorded at once.
    func dispatch(_ messages: [Message], nowMs: Int64) async throws {
        var results = DispatchResults()
        var byChannel: [String: [Message]] = [:]
        for m in messages {
            switch place(m, nowMs: nowMs, exclude: []) {
            case .channel(let c): byChannel[c, default: []].append(m)
            case .done(let update): results.failed.append(update)
            case .wait:
                results.retry.append(
                    RetryRecord(
                        id: m.id,
                        atMs: nowMs,
                        notBeforeMs: nowMs + configuration.waitForChannelMs,
                        reason: "no channel of its route is bound"
                    )
                )
            }
        }
        let multipart = messages.filter { $0.segments > 1 }.map(\.id)
        let skip = multipart.isEmpty ? [:] : try await store.acceptedParts(messageIds: multipart)
        for (channelId, batch) in byChannel { handOver(batch, to: channelId, skipParts: skip, nowMs: nowMs) }
        if !results.isEmpty { try await store.record(results) }
    }

    /// What goes to an in-process channel is sent while it is claimed (see `InstantChannel`). Runs inside the
    /// store's write, so it only routes and asks the channel: no waiting, no other store call.
    func sendNow(_ messages: [Message], nowMs: Int64) -> DispatchResults {
        var results = DispatchResults()
        guard !instant.isEmpty else { return results }
        for m in messages {
            // Most messages of an SMPP route are passed over without routing them in full.
            guard router.channels(for: m).contains(where: { instant[$0] != nil }),
                case .channel(let id) = place(m, nowMs: nowMs, exclude: []), let channel = instant[id],
                case .sent(let record, let entry)? = channel.submitNow(m, nowMs: nowMs)
            else { continue }
            results.sent.append(record)
            if let entry { results.inbox.append(entry) }
        }
        return results
    }

    /// Why a queued message waits, as this process sees it now: no channel of its route bound, a window full, a
    /// throttle. Nil when nothing here holds it back (it goes with the next round) or it is not queued.
    public func waitReason(for m: Message, nowMs: Int64) -> String? {
        guard m.status == .queued, m.notBeforeMs <= nowMs else { return nil }
        let candidates = router.channels(for: m).compactMap { channels[$0] }
        guard !candidates.isEmpty else { return "no configured channel can take it" }
        let available = candidates.filter(\.isAvailable)
        guard let first = available.first else {
            return "no channel of its route is bound (\(candidates.map(\.id).joined(separator: ", ")))"
        }
        return first.waitReason(nowMs: nowMs)
    }

    enum Placement {
        case channel(String)
        case done(StatusUpdate)
        case wait
    }

    func place(_ m: Message, nowMs: Int64, exclude: [String]) -> Placement {
        // Never hand a message to a carrier after its validity ended, even if it was claimed just now.
        if let expiry = m.expiresAtMs, expiry <= nowMs {
            return .done(
                StatusUpdate(
                    id: m.id,
                    status: .expired,
                    errorCode: "EXPIRED",
                    errorDescription: "The validity period ended before the message could be sent",
                    atMs: nowMs
                )
            )
        }
        let candidates = router.channels(for: m).filter { !exclude.contains($0) }
        if let c = candidates.first(where: { channels[$0]?.isAvailable == true }) { return .channel(c) }
        if candidates.contains(where: { channels[$0] != nil }) { return .wait }
        return .done(
            StatusUpdate(
                id: m.id,
                status: .failed,
                errorCode: "NO_ROUTE",
                errorDescription: "No configured channel can take this message",
                atMs: nowMs
            )
        )
    }

    /// Turns the outcomes channels reported into one store transaction; reroutes permanent routing refusals. One
    /// at a time (rounds and the receipts' barrier both call it), so "recorded through" only moves past outcomes
    /// whose transaction committed.
    func recordReported() async throws {
        try await recording.run { try await recordReportedNow() }
    }

    private func recordReportedNow() async throws {
        // Read before the batch is taken: every outcome counted in `mark` is in this batch or an earlier one.
        let mark = progress.reported
        let batch = reported.withLock { r -> [(Message, String, SubmitOutcome)] in
            defer { r.removeAll(keepingCapacity: true) }
            return r
        }
        defer {
            progress.recorded(through: mark, keys: batch.flatMap { RecordProgress.keys($0.2, channel: $0.1) })
        }
        guard !batch.isEmpty else { return }
        defer { unrecorded.subtract(batch.count, ordering: .relaxed) }
        let now = clock()
        var results = DispatchResults()
        var reroute: [String: [Message]] = [:]
        for (m, channelId, outcome) in batch {
            var finished = true
            switch outcome {
            case .sent(let record, let entry):
                results.sent.append(record)
                if let entry { results.inbox.append(entry) }
            case .retry(let after, let accepted, let reason):
                if !accepted.isEmpty { results.acceptedParts.append(partial(m, channelId, accepted, now)) }
                let why =
                    reason.isEmpty ? "channel \(channelId) asked for a retry" : "\(reason) on channel \(channelId)"
                results.retry.append(RetryRecord(id: m.id, atMs: now, notBeforeMs: now + after, reason: why))
            case .expired:
                results.failed.append(
                    StatusUpdate(
                        id: m.id,
                        status: .expired,
                        errorCode: "EXPIRED",
                        errorDescription: "The validity period ended before the message could be sent",
                        atMs: now
                    )
                )
            case .failed(let code, let description, let canReroute, let accepted):
                if !accepted.isEmpty { results.acceptedParts.append(partial(m, channelId, accepted, now)) }
                let excluded = tried.withLock { $0[m.id] ?? [channelId] }
                if canReroute, accepted.isEmpty, case .channel(let next) = place(m, nowMs: now, exclude: excluded) {
                    reroute[next, default: []].append(m)
                    finished = false
                    logger.info(
                        "rerouting",
                        metadata: ["message": "\(m.id)", "from": "\(channelId)", "to": "\(next)", "status": "\(code)"]
                    )
                } else {
                    results.failed.append(
                        StatusUpdate(
                            id: m.id,
                            status: .failed,
                            errorCode: code,
                            errorDescription: description,
                            atMs: now
                        )
                    )
                }
            }
            if finished { tried.withLock { _ = $0.removeValue(forKey: m.id) } }
        }
        try await store.record(results)
        for (channelId, messages) in reroute { handOver(messages, to: channelId, skipParts: [:], nowMs: now) }
    }

    /// Gives messages to a channel, noting it among the channels each has tried; the outcomes it reports wait in
    /// `reported` for the next round to record.
    func handOver(_ messages: [Message], to channelId: String, skipParts: [Int64: Set<Int>], nowMs: Int64) {
        guard let channel = channels[channelId] else { return }
        tried.withLock { t in for m in messages { t[m.id, default: []].append(channelId) } }
        channel.enqueue(messages, skipParts: skipParts, nowMs: nowMs) { [weak self] outcomes in
            guard let self else { return }
            self.unrecorded.add(outcomes.count, ordering: .relaxed)
            self.reported.withLock { r in for (m, o) in outcomes { r.append((m, channelId, o)) } }
            self.progress.report(
                outcomes.count,
                keys: outcomes.flatMap { RecordProgress.keys($0.1, channel: channelId) }
            )
            self.wake.signal()
        }
    }

    func partial(_ m: Message, _ channel: String, _ parts: [PartRecord], _ now: Int64) -> SentRecord {
        SentRecord(
            id: m.id,
            channel: channel,
            carrierMessageId: parts.first?.carrierId ?? "",
            sentAtMs: now,
            parts: parts
        )
    }
}
