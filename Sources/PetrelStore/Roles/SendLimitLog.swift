public import PetrelCore

/// The accept path under `limits.perNumber`: each message is checked against the sends already counted for its
/// recipient and, when it may go, stored and counted, all in the accept's transaction. Exact across nodes of a
/// shared store (PostgreSQL serialises the accepts of one account and recipient).
public protocol SendLimitLog: Sendable {
    /// `AcceptLog.commit` with the limits applied: returns, per message of `batch` (in order), nil when it was
    /// stored or the refusal when it was not. The nonce (and a campaign's progress, its refused rows counted
    /// failed) is written either way.
    func commit(
        _ batch: WriteBatch,
        limits: NumberLimits,
        then: @escaping @Sendable (Result<[ResponseCode?], any Error>) -> Void
    )
    func commit(_ batch: WriteBatch, limits: NumberLimits) async throws -> [ResponseCode?]
    /// Forgets counted sends at or before `beforeMs` (older than every window); returns how many.
    func pruneSendCounts(beforeMs: Int64) async throws -> Int
}

/// The decision both backends take inside their transaction, from the sends counted for the batch's recipients.
enum SendLimitCheck {
    /// The recipients whose history the check needs, sorted (PostgreSQL locks them in this order).
    static func recipients(_ batch: WriteBatch, _ limits: NumberLimits) -> [String] {
        Array(Set(batch.messages.lazy.filter { limits.counts(to: $0.to, type: $0.type) }.map(\.to))).sorted()
    }

    struct Outcome {
        var refusals: [ResponseCode?]
        /// `batch` without the refused messages.
        var kept: WriteBatch
        /// The kept messages that count, to be recorded.
        var counted: [Message]
    }

    static func decide(_ batch: WriteBatch, _ limits: NumberLimits, history: [String: [LimitedSend]]) -> Outcome {
        var history = history
        var out = Outcome(refusals: [], kept: batch, counted: [])
        out.kept.messages = []
        out.refusals.reserveCapacity(batch.messages.count)
        for m in batch.messages {
            guard limits.counts(to: m.to, type: m.type) else {
                out.refusals.append(nil)
                out.kept.messages.append(m)
                continue
            }
            let recent = history[m.to, default: []]
            if let refusal = limits.refusal(to: m.to, type: m.type, recent: recent, nowMs: m.createdAtMs) {
                out.refusals.append(refusal)
                continue
            }
            // Later messages of the same batch to the same number count this one.
            history[m.to, default: []].append(LimitedSend(type: m.type, atMs: m.createdAtMs))
            out.refusals.append(nil)
            out.kept.messages.append(m)
            out.counted.append(m)
        }
        // A campaign's chunk: what a limit refused is counted failed in the same transaction.
        let refused = batch.messages.count - out.kept.messages.count
        if refused > 0, var progress = out.kept.campaign {
            progress.accepted -= refused
            progress.failed += refused
            out.kept.campaign = progress
        }
        return out
    }
}
