public import PetrelCore

/// Inbound messages (MO) owed to ESMEs as deliver_sm (issue 29), shaped like `SMPPReceiptOutbox`: a row is written
/// in the transaction that stores an inbound message of an account that has an SMPP user (a trigger on both
/// stores, whatever path stored it), is claimed under a lease by the node with a receiver bind of the account, and
/// leaves when the ESME answered every part with ESME_ROK, or with its inbound message (retention).
public protocol SMPPMOOutbox: Sendable {
    /// Rows of `accounts` that no node holds at `nowMs`, oldest first, at most `limit`: each is held (by this node)
    /// until `untilMs`, then offered again if it was not acknowledged meanwhile.
    func claimSMPPMO(accounts: [String], nowMs: Int64, untilMs: Int64, limit: Int) async throws -> [InboundMessage]
    /// Inbound messages an ESME acknowledged: their rows leave.
    func smppMODone(ids: [Int64]) async throws
    /// Held rows to offer again at once (their bind went before answering).
    func releaseSMPPMO(ids: [Int64], nowMs: Int64) async throws
    /// Rows kept (sent or not, not yet acknowledged) per account that has any, over the whole store.
    func smppMOCountsByAccount() async throws -> [String: Int]
    /// The same, each count only up to `cap` + 1 (above `cap` means "more than `cap`"), over index ranges: for the
    /// console's refresh.
    func smppMOCountsByAccount(cap: Int) async throws -> [String: Int]
}
