public import PetrelCore
public import PetrelStore

/// What a channel answered for one message.
public enum SubmitOutcome: Sendable, Equatable {
    /// The carrier took it; `record` holds its id (and for simulated channels, the receipt to come).
    case sent(SentRecord, SandboxEntry?)
    /// Try again later (throttled, queue full, connection lost); the message returns to the queue.
    case retry(afterMs: Int64)
    /// The carrier refused it for good.
    case failed(code: String, description: String)
}

/// A way out to a carrier: the built-in sandbox, or an SMPP connection.
public protocol Channel: Sendable {
    var id: String { get }
    /// Whether the channel can take messages now (bound, not shut down).
    var isAvailable: Bool { get }
    func submit(_ messages: [Message], nowMs: Int64) async -> [SubmitOutcome]
}
