public import PetrelCore

/// The accept path under `limits.perNumber` and `limits.caps`: each message is checked against the sends already
/// counted for its recipient and the parts counted for its account's caps and, when it may go, stored and counted,
/// all in the accept's transaction. Exact across nodes of a shared store (PostgreSQL serialises the accepts of one
/// account and recipient, and of one account with caps).
public protocol SendLimitLog: Sendable {
    /// `AcceptLog.commit` with the limits applied: returns, per message of `batch` (in order), nil when it was
    /// stored or the refusal when it was not. The nonce (and a campaign's progress, its refused rows counted
    /// failed) is written either way.
    func commit(
        _ batch: WriteBatch,
        limits: SendLimits,
        then: @escaping @Sendable (Result<[ResponseCode?], any Error>) -> Void
    )
    func commit(_ batch: WriteBatch, limits: SendLimits) async throws -> [ResponseCode?]
    /// Reads what the accept path keeps in memory (SQLite: the day's counted sends) now, so the first accept under
    /// limits does not wait for it; a no-op where nothing is kept.
    func loadSendCounts(nowMs: Int64) async throws
    /// Forgets counted sends at or before `beforeMs` (older than every window), and cap counters whose period
    /// ended by then; returns how many.
    func pruneSendCounts(beforeMs: Int64) async throws -> Int
    /// The cap counters of periods not ended at `nowMs` (of one account, or of all when nil), by account.
    func capCounters(account: String?, nowMs: Int64) async throws -> [CapCounter]
    /// The sends counted after `sinceMs` for each of `recipients` (digits) of `account`, by recipient (one with none
    /// is absent): what `limits.perNumber` would check them against now. A campaign's preview reads it; it takes no
    /// lock and counts nothing.
    func countedSends(account: String, recipients: [String], sinceMs: Int64) async throws -> [String: [LimitedSend]]
}

extension SendLimitLog {
    public func loadSendCounts(nowMs: Int64) async throws {}

    /// Under `limits.perNumber` alone.
    public func commit(
        _ batch: WriteBatch,
        limits: NumberLimits,
        then: @escaping @Sendable (Result<[ResponseCode?], any Error>) -> Void
    ) {
        commit(batch, limits: SendLimits(perNumber: limits), then: then)
    }

    public func commit(_ batch: WriteBatch, limits: NumberLimits) async throws -> [ResponseCode?] {
        try await commit(batch, limits: SendLimits(perNumber: limits))
    }
}

/// The decision both backends take inside their transaction, from the sends counted for the batch's recipients.
enum SendLimitCheck {
    /// The recipients whose history the check needs, each once.
    static func recipients(_ batch: WriteBatch, _ limits: NumberLimits) -> [String] {
        guard !limits.isEmpty else { return [] }
        if batch.messages.count == 1, let m = batch.messages.first {
            return limits.counts(to: m.to, type: m.type) ? [m.to] : []
        }
        return Array(Set(batch.messages.lazy.filter { limits.counts(to: $0.to, type: $0.type) }.map(\.to)))
    }

    struct Outcome {
        var refusals: [ResponseCode?]
        /// `batch` without the refused messages.
        var kept: WriteBatch
        /// The kept messages that count, to be recorded: their indexes in the batch.
        var counted: [Int]
        /// Parts to add to the cap counters (with the end of each counter's period).
        var parts: [CapKey: (end: Int64, parts: Int)] = [:]
        /// Messages to add to the pumping guard's send counters.
        var guarded: [PumpingBucket: Int] = [:]
    }

    /// What the check needs of each message that the store does not hold: its cap counters and, under a pumping
    /// guard of its Type, its country (each number parsed once). Worked out before the transaction, so the parsing
    /// is not done on SQLite's one writer thread.
    struct Plan: Sendable {
        /// Every cap counter the batch is checked against, each once ("slots").
        var slots: [(key: CapKey, end: Int64, limit: Int)] = []
        /// Per message, the slots of its counters (empty without caps).
        var counters: [[Int]] = []
        /// The guarded messages' countries ("" when unknown), nil for the others.
        var regions: [String?] = []

        /// The slots' keys.
        var capKeys: Set<CapKey> { Set(slots.map(\.key)) }
    }

    static func plan(_ batch: WriteBatch, _ limits: SendLimits) -> Plan {
        var plan = Plan()
        let guarded = limits.pumpingGuard?.type
        guard !limits.caps.isEmpty || guarded != nil else { return plan }
        let known = batch.regions.flatMap { $0.count == batch.messages.count ? $0 : nil }
        if batch.messages.count == 1, let m = batch.messages.first {
            // One message (the common single): its counters are the slots, with no dictionary to share them.
            let region = known?[0] ?? (try? PhoneNumber.parse(m.to).get())?.region ?? ""
            plan.slots = limits.caps.isEmpty ? [] : limits.caps.counters(region: region, atMs: m.createdAtMs)
            plan.counters = [Array(plan.slots.indices)]
            plan.regions = [m.type == guarded ? region : nil]
            return plan
        }
        plan.counters.reserveCapacity(batch.messages.count)
        plan.regions.reserveCapacity(batch.messages.count)
        // A batch's messages share their accept time: each country's counters are worked out once.
        var memo: (atMs: Int64, byRegion: [String: [Int]]) = (0, [:])
        var slotOf: [CapKey: Int] = [:]
        // By index, reading fields in place (a copy of each Message retained and released its ten strings).
        let messages = batch.messages
        for i in messages.indices {
            let at = messages[i].createdAtMs
            let region = known?[i] ?? (try? PhoneNumber.parse(messages[i].to).get())?.region ?? ""
            var slots: [Int] = []
            if !limits.caps.isEmpty {
                if memo.atMs != at { memo = (at, [:]) }
                if let known = memo.byRegion[region] {
                    slots = known
                } else {
                    for c in limits.caps.counters(region: region, atMs: at) {
                        if let slot = slotOf[c.key] {
                            slots.append(slot)
                        } else {
                            slotOf[c.key] = plan.slots.count
                            slots.append(plan.slots.count)
                            plan.slots.append(c)
                        }
                    }
                    memo.byRegion[region] = slots
                }
            }
            plan.counters.append(slots)
            plan.regions.append(messages[i].type == guarded ? region : nil)
        }
        return plan
    }

    /// The sends already counted to a batch's numbers: by recipient, or by message (aligned with the batch, empty
    /// for a message that is not counted), which SQLite's memory gives without hashing each recipient's text.
    enum History {
        case byRecipient([String: [LimitedSend]])
        case byMessage([[LimitedSend]])
    }

    static func decide(
        _ batch: WriteBatch,
        _ all: SendLimits,
        history: [String: [LimitedSend]],
        used: [CapKey: Int] = [:],
        plan given: Plan? = nil
    ) -> Outcome {
        decide(batch, all, sent: .byRecipient(history), used: used, plan: given)
    }

    /// `usedBySlot`: the parts counted per slot of the plan, when the store has them so (instead of `used`).
    static func decide(
        _ batch: WriteBatch,
        _ all: SendLimits,
        sent: History,
        used: [CapKey: Int] = [:],
        usedBySlot: [Int]? = nil,
        plan given: Plan? = nil
    ) -> Outcome {
        let plan = given ?? Self.plan(batch, all)
        let limits = all.perNumber
        var out = Outcome(refusals: [], kept: batch, counted: [])
        out.kept.regions = nil
        out.refusals.reserveCapacity(batch.messages.count)
        // Later messages to a number count the earlier ones of the batch: only needed when a number comes twice.
        let messages = batch.messages
        let repeats = !limits.isEmpty && messages.count > 1 && Self.repeats(messages)
        var history: [String: [LimitedSend]] = [:]
        var byMessage: [[LimitedSend]]? = nil
        switch sent {
        case .byRecipient(let h): history = h
        case .byMessage(let m) where repeats:
            for i in messages.indices where !m[i].isEmpty { history[messages[i].to] = m[i] }
        case .byMessage(let m): byMessage = m
        }
        // Cap counters by slot (an array, not a dictionary, on the way through the batch).
        var slotUsed = usedBySlot ?? plan.slots.map { used[$0.key, default: 0] }
        let slotStart = slotUsed
        var anyRefused = false
        // By index, reading fields in place: a copy of each Message retained and released its ten strings.
        for index in messages.indices {
            let to = messages[index].to
            let type = messages[index].type
            let at = messages[index].createdAtMs
            let counts = limits.counts(to: to, type: type)
            // (A number with no counted send is never refused: every limit is at least 1.)
            let recent: [LimitedSend]? =
                if let byMessage { byMessage[index].isEmpty ? nil : byMessage[index] } else {
                    history.isEmpty ? nil : history[to]
                }
            if counts, let recent, let refusal = limits.refusal(to: to, type: type, recent: recent, nowMs: at) {
                out.refusals.append(refusal)
                anyRefused = true
                continue
            }
            if !plan.counters.isEmpty,
                let refusal = capRefusal(plan, plan.counters[index], messages[index].segments, &slotUsed)
            {
                out.refusals.append(refusal)
                anyRefused = true
                continue
            }
            out.refusals.append(nil)
            if let g = all.pumpingGuard, !plan.regions.isEmpty, let country = plan.regions[index] {
                out.guarded[PumpingBucket(country: country, type: type, start: g.bucket(at)), default: 0] += 1
            }
            guard counts else { continue }
            if repeats { history[to, default: []].append(LimitedSend(type: type, atMs: at)) }
            out.counted.append(index)
        }
        for (slot, c) in plan.slots.enumerated() where slotUsed[slot] > slotStart[slot] {
            out.parts[c.key] = (c.end, slotUsed[slot] - slotStart[slot])
        }
        // Kept whole unless something was refused (no copy of every message).
        if anyRefused {
            out.kept.messages = zip(batch.messages, out.refusals).compactMap { $1 == nil ? $0 : nil }
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

    /// Whether a number comes twice (by its integer key: no string hashed; anything not a number counts as a repeat,
    /// which is only slower).
    static func repeats(_ messages: [Message]) -> Bool {
        var seen = Set<UInt64>(minimumCapacity: messages.count)
        for i in messages.indices {
            guard let key = SendMemory.numberKey(messages[i].to), seen.insert(key).inserted else { return true }
        }
        return false
    }

    /// The refusal of `parts` more against the counters in `slots`, or nil (and the parts counted).
    private static func capRefusal(_ plan: Plan, _ slots: [Int], _ parts: Int, _ used: inout [Int]) -> ResponseCode? {
        for slot in slots where used[slot] + parts > plan.slots[slot].limit {
            return SendCaps.refusal([plan.slots[slot]], parts: parts, used: [plan.slots[slot].key: used[slot]])
        }
        for slot in slots { used[slot] += parts }
        return nil
    }
}
