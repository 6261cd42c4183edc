public import NIOCore

/// What Petrel's SMPP server asks of the application: who may bind, and what becomes of a message.
/// The server's sessions call it from their event loops; every call may wait for the store.
public protocol SMPPServerDelegate: Sendable {
    /// Checks `bind`'s credentials and admits it under the bind limits: `.ok`, or the status that refuses it.
    /// An `.ok` admission is released by exactly one `unbound(connection:)`.
    func bind(_ bind: Bind, remote: SocketAddress?, connection: UInt64) async -> CommandStatus
    /// A connection whose bind was admitted is gone.
    func unbound(connection: UInt64)
    /// Accepts one message (one submit_sm or data_sm, or the parts of a concatenated one) of a bound connection:
    /// `.ok` and the message id once it is durable, or the status that refuses it.
    func submit(_ submission: Submission, connection: UInt64) async -> (status: CommandStatus, messageID: String)
    /// The ESME on `connection` answered the deliver_sm sent by `SMPPServer.deliver` with `token` (on its event
    /// loop: do not wait here). Unanswered ones of a connection that goes get no call; `unbound` says it went.
    func delivered(connection: UInt64, token: UInt64, status: CommandStatus)
}
