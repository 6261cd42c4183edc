import PetrelCore
import PetrelStore
import Synchronization

/// Which carrier ids channels reported that the dispatcher has not recorded yet, for a receipt that must not
/// overtake its message's record: an SMSC may send a receipt within milliseconds of `submit_sm_resp`, before the
/// round that records the message sent has committed. Applied then, the receipt finds no message and is kept as an
/// orphan, to be adopted by that record later, which costs the store far more than applying it a moment later.
/// Receipts for ids recorded long ago (the usual case) never wait.
final class RecordProgress: Sendable {
    struct Key: Hashable {
        let channel: String
        let id: String
    }

    private struct State {
        /// Outcomes reported so far, and recorded so far (rounds record one at a time, in order).
        var reported = 0
        var recorded = 0
        /// Carrier ids of reported outcomes not yet recorded (a count: an id may be reported twice).
        var unrecorded: [Key: Int] = [:]
        var waiters: [Int: (target: Int, resume: CheckedContinuation<Void, Never>)] = [:]
        var nextWaiter = 0
    }

    private let state = Mutex(State())

    /// The carrier ids an outcome names (normalised as receipts' are).
    static func keys(_ outcome: SubmitOutcome, channel: String) -> [Key] {
        let parts: [PartRecord]
        var ids: [String] = []
        switch outcome {
        case .sent(let record, _):
            parts = record.parts
            ids.append(record.carrierMessageId)
        case .retry(_, let accepted, _), .failed(_, _, _, let accepted): parts = accepted
        case .expired: parts = []
        }
        ids += parts.map(\.carrierId)
        return ids.compactMap { CarrierID.accepted($0) }.filter { !$0.isEmpty }.map { Key(channel: channel, id: $0) }
    }

    /// Counts `n` outcomes reported, naming `keys`.
    func report(_ n: Int, keys: [Key]) {
        state.withLock { s in
            s.reported += n
            for k in keys { s.unrecorded[k, default: 0] += 1 }
        }
    }

    /// The number of outcomes reported so far.
    var reported: Int { state.withLock { $0.reported } }

    /// Everything up to `mark` (a `reported` read before the round took its batch) is recorded, or given up;
    /// `keys` are the batch's.
    func recorded(through mark: Int, keys: [Key]) {
        let ready = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.recorded = max(s.recorded, mark)
            for k in keys {
                if let n = s.unrecorded[k], n > 1 { s.unrecorded[k] = n - 1 } else { s.unrecorded[k] = nil }
            }
            let done = s.waiters.filter { $0.value.target <= s.recorded }
            for key in done.keys { s.waiters[key] = nil }
            return done.values.map(\.resume)
        }
        for r in ready { r.resume() }
    }

    /// Whether any of `receipts` names an id reported but not yet recorded.
    func awaited(_ receipts: [CarrierReceipt]) -> Bool {
        state.withLock { s in
            !s.unrecorded.isEmpty
                && receipts.contains { s.unrecorded[Key(channel: $0.channel, id: $0.carrierId)] != nil }
        }
    }

    /// Waits until everything reported before the call is recorded, or `timeoutMs` passed (a store that cannot
    /// record must not hold receipts back for long: they then go the orphan's way, as before).
    func waitForRecords(timeoutMs: Int64) async {
        let (target, recorded) = state.withLock { ($0.reported, $0.recorded) }
        guard recorded < target else { return }
        let id = state.withLock { s -> Int in
            s.nextWaiter += 1
            return s.nextWaiter
        }
        let timer = Task {
            try? await Task.sleep(for: .milliseconds(timeoutMs))
            self.release(id)
        }
        await withCheckedContinuation { c in
            let now = state.withLock { s -> Bool in
                if s.recorded >= target { return true }
                s.waiters[id] = (target, c)
                return false
            }
            if now { c.resume() }
        }
        timer.cancel()
    }

    private func release(_ id: Int) {
        let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
        waiter?.resume.resume()
    }
}
