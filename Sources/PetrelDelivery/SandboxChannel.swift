public import PetrelCore
public import PetrelStore

/// The built-in carrier. It delivers after a short delay; the last digits of a number pick the outcome:
/// `…666` fails (undeliverable), `…777` expires, `…555` stays in sending for a while and is then delivered,
/// anything else is delivered.
public final class SandboxChannel: InstantChannel {
    public struct Configuration: Sendable {
        public var deliveryDelayMs: Int64 = 300
        public var slowDelayMs: Int64 = 10_000

        public init(deliveryDelayMs: Int64 = 300, slowDelayMs: Int64 = 10_000) {
            self.deliveryDelayMs = deliveryDelayMs
            self.slowDelayMs = slowDelayMs
        }
    }

    public static let channelId = "sandbox"
    public let id = SandboxChannel.channelId
    public let configuration: Configuration
    public var isAvailable: Bool { true }
    public var freeCapacity: Int { 100_000 }

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    public enum Outcome: String, Sendable {
        case delivered, failed, expired, slow
    }

    public static func outcome(for number: String) -> Outcome {
        if number.hasSuffix("666") { return .failed }
        if number.hasSuffix("777") { return .expired }
        if number.hasSuffix("555") { return .slow }
        return .delivered
    }

    public func enqueue(
        _ messages: [Message],
        skipParts: [Int64: Set<Int>],
        nowMs: Int64,
        completion: @escaping @Sendable ([(Message, SubmitOutcome)]) -> Void
    ) {
        completion(messages.map { ($0, outcome($0, nowMs: nowMs)) })
    }

    public func submitNow(_ message: Message, nowMs: Int64) -> SubmitOutcome? {
        outcome(message, nowMs: nowMs)
    }

    public func shutdown() async {}

    func outcome(_ m: Message, nowMs: Int64) -> SubmitOutcome {
        let outcome = Self.outcome(for: m.to)
        let receipt: StatusUpdate
        switch outcome {
        case .delivered:
            receipt = StatusUpdate(id: m.id, status: .delivered, atMs: nowMs + configuration.deliveryDelayMs)
        case .slow:
            receipt = StatusUpdate(id: m.id, status: .delivered, atMs: nowMs + configuration.slowDelayMs)
        case .failed:
            receipt = StatusUpdate(
                id: m.id,
                status: .failed,
                errorCode: "UNDELIV",
                errorDescription: "Undeliverable: the sandbox fails numbers ending in 666",
                atMs: nowMs + configuration.deliveryDelayMs
            )
        case .expired:
            receipt = StatusUpdate(
                id: m.id,
                status: .expired,
                errorCode: "EXPIRED",
                errorDescription: "Expired: the sandbox expires numbers ending in 777",
                atMs: nowMs + configuration.deliveryDelayMs
            )
        }
        // No carrier id: the sandbox's receipts are scheduled by message id, and an id stored per message would only
        // widen its row and add an entry to the carrier-id index (a third of the cost of marking it sent).
        let record = SentRecord(id: m.id, channel: id, carrierMessageId: "", sentAtMs: nowMs, scheduledReceipt: receipt)
        let entry = SandboxEntry(
            messageId: m.id,
            account: m.account,
            to: m.to,
            from: m.from,
            text: m.text,
            segments: m.segments,
            receivedAtMs: nowMs,
            outcome: outcome.rawValue
        )
        return .sent(record, entry)
    }
}
