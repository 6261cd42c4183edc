public import PetrelCore
public import PetrelStore

/// What a channel answered for one message.
public enum SubmitOutcome: Sendable, Equatable {
    /// The carrier took every part; `record` holds the ids (and, for simulated channels, the receipt to come).
    case sent(SentRecord, SandboxEntry?)
    /// Try again later (throttled, temporary error, no answer); `accepted` parts need not be sent again. `reason`
    /// goes in the message's history.
    case retry(afterMs: Int64, accepted: [PartRecord], reason: String)
    /// The carrier refused it for good. With `reroute`, another channel of the route may still take it.
    case failed(code: String, description: String, reroute: Bool, accepted: [PartRecord])
    /// Its validity ended before it could be handed over.
    case expired
}

/// A way out to a carrier: the built-in sandbox, or an SMPP connection.
///
/// `enqueue` takes messages at once (so capacity is accounted for immediately) and reports each message's
/// outcome later through `completion`, possibly from another thread.
public protocol Channel: AnyObject, Sendable {
    var id: String { get }
    /// Whether the channel can take messages now (at least one session bound).
    var isAvailable: Bool { get }
    /// Messages the channel can take right now without queueing beyond its windows.
    var freeCapacity: Int { get }
    func enqueue(
        _ messages: [Message],
        skipParts: [Int64: Set<Int>],
        nowMs: Int64,
        completion: @escaping @Sendable ([(Message, SubmitOutcome)]) -> Void
    )
    /// Finishes outstanding work (drains windows, unbinds) before shutdown.
    func shutdown() async
    /// Why a message handed over now would wait, while it would (throttled until a time, window full); nil when
    /// it would go at once. Read-only, for a message's page.
    func waitReason(nowMs: Int64) -> String?
}

extension Channel {
    public func waitReason(nowMs: Int64) -> String? { nil }
}

/// A channel inside the process (the sandbox) that answers at once. The dispatcher sends to it while it claims,
/// so its messages are recorded sent in the claim's own write.
public protocol InstantChannel: Channel {
    /// The outcome of handing `message` over now; nil to go through `enqueue` instead.
    func submitNow(_ message: Message, nowMs: Int64) -> SubmitOutcome?
}
