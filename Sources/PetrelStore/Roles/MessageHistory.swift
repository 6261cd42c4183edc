public import PetrelCore

/// A message's whole history: what its rows already hold (accepted, submitted part by part, the receipt's outcome)
/// merged with the events recorded because no column holds them (retries, lease requeues, receipt pushes).
public protocol MessageHistory: Sendable {
    /// The message of `account` with its timeline, oldest first; nil when the account has no such message.
    func history(messageId: Int64, account: String) async throws -> MessageTimeline?
}
