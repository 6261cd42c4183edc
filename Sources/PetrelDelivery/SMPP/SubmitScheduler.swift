import NIOCore  // CircularBuffer only: a data structure, no I/O
import PetrelCore
import PetrelSMPP
import PetrelStore

/// What an SMPP channel decides, as a pure state machine: which part goes next on which session, when the token
/// bucket, a throttle pause or a reconnect back-off allows it, and each message's outcome. No loop, no clock, no
/// logger, no socket inside: times come in as arguments and decisions come out as `Action`s that `SMPPChannel`
/// carries out (postgres-nio's `PoolStateMachine` shape).
///
/// Events (`start`, `add`, `submitted`, `bound`, `closed`, `timerFired`, `shutdown`, …) change the state; the
/// channel then takes the actions one at a time with `next(nowMs:)` until it returns nil. So the per-part path
/// (a `.submit` per part, a `.report` per message) builds no array of actions.
///
/// A session (a bind):
///
///    idle ──start──▶ connecting ──bound──▶ bound ──slot lost, cannot write──▶ closing
///    │                 ▲    │                │                                   │
///    │ no slot         │    └─failed, closed─┴─closed──▶ waiting ◀─closed────────┘
///    ▼                 │                                    │
///    parked ──slot─────┴───────────back-off timer───────────┘ (parked instead if its slot is gone)
///
/// Once stopping, a session that closes goes back to idle.
///
/// A part: queued (by priority, first in first out within one) ──submit──▶ in flight ──answer──▶ done, or back
/// to the front of its queue (throttled, or the session could not write it). A message is reported once, when
/// every part is done. After `shutdown` the machine drains: once nothing is queued or in flight (or at the
/// deadline) every message left is reported for a retry, the sessions unbind and `.stopped` comes out.
struct SubmitScheduler<Reply> {
    /// A submit_sm to write on a session; `token` names it in `submitted` and `notWritten`.
    struct Submit {
        var session: Int
        var token: UInt64
        var message: ShortMessage
    }

    /// A message's outcome, for whoever handed it over (`reply`).
    struct Report {
        var message: Message
        var outcome: SubmitOutcome
        var reply: Reply
    }

    enum Timer: Hashable, Sendable {
        case pump
        case reconnect(session: Int)
        case drainDeadline
    }

    enum Action {
        /// Write this submit_sm on the session; then `notWritten` if it could not be.
        case submit(Submit)
        case report(Report)
        /// Open the session's connection and bind; then `bound`, `bindRejected`, `connectFailed` or `closed`.
        case connect(session: Int)
        case unbind(session: Int)
        /// Call `timerFired` at this time.
        case schedule(Timer, atMs: Int64)
        /// Drained: close the connections and finish the shutdown.
        case stopped
    }

    struct Session {
        enum State: Equatable {
            case idle, parked, connecting, bound, closing, waiting
        }
        let mode: BindMode
        /// The bind slot it needs (a transmitter and its receiver share one).
        let slot: Int
        var state = State.idle
        var backoffMs: Int64 = 0
        /// Submits written on it and not answered yet.
        var inFlight = 0
    }

    struct Queued {
        var job: Int
        var part: MessagePart
        var throttled = 0
    }

    struct InFlight {
        var queued: Queued
        var session: Int
        var sentAtMs: Int64
    }

    struct Job {
        var message: Message
        var reply: Reply
        var remaining = 0
        var accepted: [PartRecord] = []
        var retryAfterMs: Int64?
        var retryReason = ""
        var failure: (code: String, description: String, reroute: Bool)?
        var expired = false
    }

    /// A throttled part is paused this long, doubling per throttle in a row, up to `maxThrottlePauseMs`.
    static var minThrottlePauseMs: Int64 { 200 }
    static var maxThrottlePauseMs: Int64 { 5000 }
    /// After this many throttles one part goes back to the dispatcher (a retry later) instead of waiting again.
    static var maxThrottles: Int { 20 }
    /// Retry delays: no answer (the outcome is unknown), or the carrier asked for a retry.
    static var noAnswerRetryMs: Int64 { 1000 }
    static var carrierRetryMs: Int64 { 5000 }
    /// How long a shutdown waits for the windows to empty.
    static var drainMs: Int64 { 5000 }

    let configuration: SMPPChannelConfiguration
    // Internal rather than private where the session events (SubmitScheduler+Sessions.swift) change them.
    var sessions: [Session] = []
    var health = SMPPChannel.Health()
    /// Sessions this node may bind: all of them, or (with `maxBinds`) the slots it holds.
    var allowedSessions: Int
    var nodes = 1
    var bucket: TokenBucket
    private var roundRobin = 0
    private var pausedUntilMs: Int64 = 0
    private var throttlePauseMs: Int64 = 0
    /// When the pump timer is set for; nil when none is.
    private var pumpAtMs: Int64?

    /// One queue per priority (lower first).
    private var queues: [CircularBuffer<Queued>]
    private(set) var queuedCount = 0
    var inFlight: [UInt64: InFlight] = [:]
    private var nextToken: UInt64 = 1
    /// Jobs by slot; a slot is reused once its job is reported, so no job allocates or hashes.
    private var jobs: [Job?] = []
    private var freeJobs: [Int] = []

    /// Actions decided and not yet taken by `next`.
    var ready = CircularBuffer<Action>()
    private var drainDeadlineMs: Int64?
    private var deadlinePassed = false
    private(set) var isStopped = false

    init(configuration: SMPPChannelConfiguration, nowMs: Int64) {
        self.configuration = configuration
        self.bucket = TokenBucket(rate: configuration.tps, nowMs: nowMs)
        self.allowedSessions = configuration.maxBinds > 0 ? 0 : configuration.sessions
        self.queues = Array(repeating: CircularBuffer(), count: Priority.bulk.rawValue + 1)
        let first: BindMode = configuration.bind == .transceiver ? .transceiver : .transmitter
        for slot in 0..<max(0, configuration.sessions) {
            sessions.append(Session(mode: first, slot: slot))
            if configuration.bind == .transmitterReceiver { sessions.append(Session(mode: .receiver, slot: slot)) }
        }
    }

    var isStopping: Bool { drainDeadlineMs != nil }
    /// Until when a throttle pause holds every part back (a past time when none does).
    var throttledUntilMs: Int64 { pausedUntilMs }
    var inFlightCount: Int { inFlight.count }
    var boundSessions: Int { sessions.count(where: { $0.state == .bound }) }
    var boundTransmitters: Int { sessions.count(where: { $0.state == .bound && $0.mode.canSubmit }) }

    /// Messages the dispatcher may hand over now: free window slots of bound transmitters plus three windows' worth
    /// of queue (so claims, which take a commit each, keep ahead of the responses that free the window), minus what
    /// already waits. Priority order inside the queue keeps an OTP from waiting behind it.
    var capacity: Int {
        var free = 0
        for s in sessions where s.state == .bound && s.mode.canSubmit {
            free += configuration.window - s.inFlight + 3 * configuration.window
        }
        return free - queuedCount
    }

    // MARK: Actions

    /// The next thing to do, or nil when there is nothing until the next event.
    mutating func next(nowMs: Int64) -> Action? {
        if let action = ready.popFirst() { return action }
        if let deadline = drainDeadlineMs, !isStopped,
            (queuedCount == 0 && inFlight.isEmpty) || deadlinePassed || nowMs >= deadline
        {
            finishDrain(nowMs: nowMs)
            return ready.popFirst()
        }
        return pump(nowMs: nowMs)
    }

    /// The next part to send, while a bound transmitter has window room, the bucket has a token and no pause is on.
    private mutating func pump(nowMs: Int64) -> Action? {
        while let lane = queues.firstIndex(where: { !$0.isEmpty }), let head = queues[lane].first {
            if nowMs < pausedUntilMs { return schedulePump(atMs: pausedUntilMs) }
            guard let session = nextSession() else { return nil }
            guard let message = jobs[head.job]?.message else {
                // Cannot happen (a job outlives its parts); dropping the orphan part keeps the queue moving.
                queues[lane].removeFirst()
                queuedCount -= 1
                continue
            }
            if let expiry = message.expiresAtMs, expiry <= nowMs {
                queues[lane].removeFirst()
                queuedCount -= 1
                jobs[head.job]?.expired = true
                partDone(head.job, nowMs: nowMs)
                if let report = ready.popFirst() { return report }
                continue
            }
            if let wait = bucket.take(nowMs: nowMs) { return schedulePump(atMs: nowMs + wait) }
            queues[lane].removeFirst()
            queuedCount -= 1
            roundRobin = (session + 1) % sessions.count
            let token = nextToken
            nextToken &+= 1
            inFlight[token] = InFlight(queued: head, session: session, sentAtMs: nowMs)
            sessions[session].inFlight += 1
            return .submit(Submit(session: session, token: token, message: shortMessage(message, head.part, nowMs)))
        }
        return nil
    }

    private mutating func schedulePump(atMs: Int64) -> Action? {
        guard pumpAtMs == nil else { return nil }
        pumpAtMs = atMs
        return .schedule(.pump, atMs: atMs)
    }

    /// A bound transmitter with window room, in turn.
    private func nextSession() -> Int? {
        for step in 0..<sessions.count {
            let i = (roundRobin + step) % sessions.count
            let s = sessions[i]
            if s.state == .bound, s.mode.canSubmit, s.inFlight < configuration.window { return i }
        }
        return nil
    }

    func shortMessage(_ m: Message, _ part: MessagePart, _ nowMs: Int64) -> ShortMessage {
        let sender = m.from.isEmpty ? configuration.defaultSender : m.from
        let alphanumeric = sender.contains { !$0.isNumber }
        var validity = ""
        if let expiry = m.expiresAtMs {
            validity = MessageParts.relativeValidity(seconds: max(1, (expiry - nowMs) / 1000))
        }
        return ShortMessage(
            source: Address(
                ton: alphanumeric ? configuration.sourceTON : 1,
                npi: alphanumeric ? configuration.sourceNPI : 1,
                address: sender
            ),
            destination: .international(m.to),
            esmClass: part.esmClass,
            validityPeriod: validity,
            registeredDelivery: 1,
            dataCoding: part.dataCoding,
            shortMessage: part.shortMessage,
            tlvs: part.tlvs
        )
    }

    // MARK: Messages

    /// Queues a message's parts, except those in `skipParts` (accepted by the carrier before). Higher priority goes
    /// ahead of queued lower-priority parts (never ahead of what is already in flight), so an OTP waits at most for
    /// a window slot, not for the marketing claimed before it.
    mutating func add(_ m: Message, skipParts: Set<Int>, reply: Reply, nowMs: Int64) {
        guard !isStopped else {
            // Handed over after the drain (a reroute while shutting down): back to the queue, not lost.
            let outcome = SubmitOutcome.retry(
                afterMs: Self.noAnswerRetryMs,
                accepted: [],
                reason: "the channel was shutting down when it was handed over"
            )
            ready.append(.report(Report(message: m, outcome: outcome, reply: reply)))
            return
        }
        let parts: [MessagePart]
        do {
            parts = try MessageParts.make(
                m.text,
                mode: configuration.longMessages,
                reference: UInt16(truncatingIfNeeded: m.id)
            )
        } catch {
            // Too long for this channel's long-message mode (it got past the API's bound, or came from an older
            // version): it fails here rather than trap, and another channel of its route may still take it.
            let outcome = SubmitOutcome.failed(
                code: MessageParts.Problem.code,
                description: error.description,
                reroute: true,
                accepted: []
            )
            ready.append(.report(Report(message: m, outcome: outcome, reply: reply)))
            return
        }
        let job = newJob(Job(message: m, reply: reply))
        let lane = min(m.priority.rawValue, queues.count - 1)
        var todo = 0
        for part in parts where !skipParts.contains(part.index) {
            queues[lane].append(Queued(job: job, part: part))
            todo += 1
        }
        queuedCount += todo
        jobs[job]?.remaining = todo
        if todo == 0 { finish(job, nowMs: nowMs) }
    }

    private mutating func newJob(_ job: Job) -> Int {
        if let slot = freeJobs.popLast() {
            jobs[slot] = job
            return slot
        }
        jobs.append(job)
        return jobs.count - 1
    }

    /// A submit_sm's answer (or its absence). Returns nil for a token it does not know; else how long the answer
    /// took, and whether the window slot is free for the dispatcher (not when the part waits again, throttled).
    mutating func submitted(
        _ token: UInt64,
        _ result: ESMEStateMachine.SubmitResult,
        nowMs: Int64
    ) -> (latencyMs: Int64, freed: Bool)? {
        guard var f = inFlight.removeValue(forKey: token) else { return nil }
        sessions[f.session].inFlight -= 1
        let job = f.queued.job
        let latency = nowMs - f.sentAtMs
        guard case .response(let status, let messageID) = result else {
            // Unknown outcome: send again later (at least once).
            health.noResponse += 1
            health.lastError = "no submit_sm_resp in time"
            retry(job, afterMs: Self.noAnswerRetryMs, reason: "no submit_sm_resp in time", nowMs: nowMs)
            return (latency, true)
        }
        if status.handling == .accepted {
            health.accepted += 1
        } else {
            health.refused += 1
            health.lastError = "submit_sm refused: \(status)"
        }
        switch status.handling {
        case .accepted:
            throttlePauseMs = 0
            let record = PartRecord(part: f.queued.part.index, total: f.queued.part.total, carrierId: messageID)
            jobs[job]?.accepted.append(record)
            partDone(job, nowMs: nowMs)
        case .slowDown:
            throttlePauseMs = min(max(throttlePauseMs * 2, Self.minThrottlePauseMs), Self.maxThrottlePauseMs)
            pausedUntilMs = max(pausedUntilMs, nowMs + throttlePauseMs)
            f.queued.throttled += 1
            guard f.queued.throttled > Self.maxThrottles else {
                // Back in front: the part goes again once the pause is over.
                requeueFirst(f.queued)
                return (latency, false)
            }
            let reason = "throttled by the carrier \(f.queued.throttled) times in a row (\(Self.code(status)))"
            retry(job, afterMs: Self.carrierRetryMs, reason: reason, nowMs: nowMs)
        case .retry:
            let reason = "the carrier refused it for now (\(Self.code(status)))"
            retry(job, afterMs: Self.carrierRetryMs, reason: reason, nowMs: nowMs)
        case .reroute, .fail:
            jobs[job]?.failure = (
                status.name, "The carrier refused the message: \(status.name)", status.handling == .reroute
            )
            partDone(job, nowMs: nowMs)
        }
        return (latency, true)
    }

    /// A `.submit` the session could not write: `unencodable` says why no session ever can (the message fails;
    /// another channel of its route may still take it); nil means the session is no longer bound (the part goes
    /// back in front, and the session takes nothing more until it binds again).
    mutating func notWritten(_ token: UInt64, unencodable reason: String?, nowMs: Int64) {
        guard let f = inFlight.removeValue(forKey: token) else { return }
        sessions[f.session].inFlight -= 1
        guard let reason else {
            if sessions[f.session].state == .bound { sessions[f.session].state = .closing }
            requeueFirst(f.queued)
            return
        }
        jobs[f.queued.job]?.failure = (
            MessageParts.Problem.code, "The message cannot be encoded for SMPP: \(reason)", true
        )
        partDone(f.queued.job, nowMs: nowMs)
    }

    private mutating func requeueFirst(_ q: Queued) {
        guard let m = jobs[q.job]?.message else { return }
        queues[min(m.priority.rawValue, queues.count - 1)].prepend(q)
        queuedCount += 1
    }

    /// A command_status as the history shows it: its name and number.
    static func code(_ status: CommandStatus) -> String {
        let hex = String(status.rawValue, radix: 16, uppercase: true)
        return "\(status.name), command_status 0x" + String(repeating: "0", count: max(0, 8 - hex.count)) + hex
    }

    private mutating func retry(_ job: Int, afterMs: Int64, reason: String, nowMs: Int64) {
        noteRetry(job, afterMs: afterMs, reason: reason)
        if let left = jobs[job]?.remaining, left <= 0 { finish(job, nowMs: nowMs) }
    }

    private mutating func partDone(_ job: Int, nowMs: Int64) {
        jobs[job]?.remaining -= 1
        if let left = jobs[job]?.remaining, left <= 0 { finish(job, nowMs: nowMs) }
    }

    private mutating func finish(_ slot: Int, nowMs: Int64) {
        guard let job = jobs[slot] else { return }
        jobs[slot] = nil
        freeJobs.append(slot)
        let outcome: SubmitOutcome
        if job.expired {
            outcome = .expired
        } else if let f = job.failure {
            outcome = .failed(code: f.code, description: f.description, reroute: f.reroute, accepted: job.accepted)
        } else if let after = job.retryAfterMs {
            outcome = .retry(afterMs: after, accepted: job.accepted, reason: job.retryReason)
        } else {
            let parts = job.accepted.sorted { $0.part < $1.part }
            let record = SentRecord(
                id: job.message.id,
                channel: configuration.id,
                carrierMessageId: parts.first?.carrierId ?? "",
                sentAtMs: nowMs,
                parts: parts
            )
            outcome = .sent(record, nil)
        }
        ready.append(.report(Report(message: job.message, outcome: outcome, reply: job.reply)))
    }

    // MARK: Timers and shutdown

    mutating func timerFired(_ timer: Timer, nowMs: Int64) {
        switch timer {
        case .pump:
            pumpAtMs = nil
        case .reconnect(let i):
            if sessions.indices.contains(i), sessions[i].state == .waiting { connect(i) }
        case .drainDeadline:
            deadlinePassed = true
        }
    }

    /// Starts the drain: queued parts still go while the windows empty, for up to `drainMs`.
    mutating func shutdown(nowMs: Int64) {
        guard drainDeadlineMs == nil else { return }
        drainDeadlineMs = nowMs + Self.drainMs
        ready.append(.schedule(.drainDeadline, atMs: nowMs + Self.drainMs))
    }

    /// Every message still queued or in flight is reported for a retry (a late answer is ignored: at least once),
    /// and every session unbinds.
    private mutating func finishDrain(nowMs: Int64) {
        for f in inFlight.values {
            noteRetry(f.queued.job, reason: "the channel shut down before the carrier answered")
        }
        inFlight.removeAll()
        for lane in queues.indices {
            for q in queues[lane] { noteRetry(q.job, reason: "the channel shut down before it was sent") }
            queues[lane].removeAll()
        }
        queuedCount = 0
        for slot in jobs.indices where jobs[slot] != nil { finish(slot, nowMs: nowMs) }
        for i in sessions.indices {
            sessions[i].inFlight = 0
            switch sessions[i].state {
            case .connecting, .bound, .closing: ready.append(.unbind(session: i))
            case .idle, .parked, .waiting: break
            }
        }
        isStopped = true
        ready.append(.stopped)
    }

    /// One part done without an answer that settles it: the message goes again after `afterMs` at the earliest.
    private mutating func noteRetry(_ job: Int, afterMs: Int64 = Self.noAnswerRetryMs, reason: String) {
        let after = max(jobs[job]?.retryAfterMs ?? 0, afterMs)
        jobs[job]?.retryAfterMs = after
        // The first reason of a message's parts stands for them all.
        if jobs[job]?.retryReason.isEmpty == true { jobs[job]?.retryReason = reason }
        jobs[job]?.remaining -= 1
    }
}
