public import PetrelCore

extension MessageTimeline {
    /// Merges what the rows hold with the recorded events, oldest first (at one time, in the order things happen:
    /// accepted, submitted, retries, the outcome, the receipt's push).
    public static func build(
        message m: Message,
        parts: [PartView],
        events: [HistoryEvent],
        receipts: [PendingReceipt]
    ) -> MessageTimeline {
        var entries: [TimelineEntry] = []
        var accepted = "accepted, \(m.segments) part\(m.segments == 1 ? "" : "s")"
        var scheduledUntil: Int64?
        if m.notBeforeMs > m.createdAtMs && !events.contains(where: { $0.kind == .retried }) {
            accepted += ", scheduled"
            scheduledUntil = m.notBeforeMs
        }
        entries.append(TimelineEntry(atMs: m.createdAtMs, kind: .accepted, untilMs: scheduledUntil, detail: accepted))
        if parts.isEmpty, let sent = m.sentAtMs {
            let carrier = m.carrierMessageId.isEmpty ? "" : ", carrier id \(m.carrierMessageId)"
            entries.append(TimelineEntry(atMs: sent, kind: .submitted, detail: "to channel \(m.channel)\(carrier)"))
        }
        for p in parts {
            entries.append(
                TimelineEntry(
                    atMs: p.sentAtMs,
                    kind: .submitted,
                    detail: "part \(p.part)/\(p.total) to channel \(p.channel), carrier id \(p.carrierId)"
                )
            )
            // A part's own receipt, when the message has several (a single part's is the message's outcome).
            if parts.count > 1, let done = p.doneAtMs, let kind = Self.outcome(p.status) {
                let code = p.errorCode.isEmpty ? "" : " (\(p.errorCode))"
                entries.append(TimelineEntry(atMs: done, kind: kind, detail: "part \(p.part)/\(p.total)\(code)"))
            }
        }
        for e in events {
            let kind: TimelineEntry.Kind
            switch e.kind {
            case .status: continue  // a failure or expiry: the message's columns hold it (below)
            case .retried: kind = .retried
            case .requeued: kind = .requeued
            case .receiptPushed: kind = .receiptPushed
            case .receiptRetry: kind = .receiptRetry
            case .receiptParked: kind = .receiptParked
            case .receiptReplayed: kind = .receiptReplayed
            }
            entries.append(TimelineEntry(atMs: e.atMs, kind: kind, untilMs: e.untilMs, detail: e.detail))
        }
        if let done = m.doneAtMs, let kind = Self.outcome(m.status) {
            var detail = m.errorCode.isEmpty ? (m.status == .delivered ? "delivered" : m.status.name) : m.errorCode
            if !m.errorDescription.isEmpty { detail += ": \(m.errorDescription)" }
            entries.append(TimelineEntry(atMs: done, kind: kind, detail: detail))
        }
        // Stable by time: entries of one time keep the order above.
        let ordered = entries.enumerated().sorted { ($0.element.atMs, $0.offset) < ($1.element.atMs, $1.offset) }
        var timeline = ordered.map(\.element)
        // A receipt still in the outbox is where the message stands now: last, at the time it entered the outbox.
        let parkedRecorded = events.contains { $0.kind == .receiptParked }
        for r in receipts where !(r.parked && parkedRecorded) {
            let tries = "\(r.attempts) attempt\(r.attempts == 1 ? "" : "s")"
            let detail =
                r.parked
                ? "receipt parked after \(tries): \(r.lastError)"
                : r.attempts == 0 ? "receipt waiting to be pushed" : "receipt waiting to be pushed again after \(tries)"
            timeline.append(
                TimelineEntry(
                    atMs: r.createdAtMs,
                    kind: r.parked ? .receiptParked : .receiptPending,
                    untilMs: r.parked ? nil : r.nextAtMs,
                    detail: detail
                )
            )
        }
        return MessageTimeline(message: m, entries: timeline)
    }

    static func outcome(_ status: MessageStatus) -> TimelineEntry.Kind? {
        switch status {
        case .delivered: .delivered
        case .failed: .failed
        case .expired: .expired
        case .queued, .submitting, .sent: nil
        }
    }

    /// Why a message that is not final yet waits, as far as the store knows (a running dispatcher knows more:
    /// no channel bound, window full, throttled). Nil for a final message.
    public func storeWaitReason(nowMs: Int64) -> WaitReason? {
        let m = message
        switch m.status {
        case .delivered, .failed, .expired: return nil
        case .sent: return WaitReason(text: "sent, waiting for the carrier's receipt", sinceMs: m.sentAtMs)
        case .submitting: return WaitReason(text: "being handed to a channel")
        case .queued:
            guard m.notBeforeMs > nowMs else {
                return WaitReason(text: "queued", sinceMs: max(m.notBeforeMs, m.createdAtMs))
            }
            if let last = entries.last(where: { $0.kind == .retried }), last.untilMs == m.notBeforeMs {
                return WaitReason(text: "retry", untilMs: m.notBeforeMs, after: last.detail)
            }
            return WaitReason(text: "scheduled", untilMs: m.notBeforeMs)
        }
    }
}

/// Why a message waits: what it waits for, the time it waits until or has waited since, and what it waits after.
public struct WaitReason: Sendable, Equatable {
    public var text: String
    public var sinceMs: Int64?
    public var untilMs: Int64?
    /// What happened before, for a retry: its reason.
    public var after: String?

    public init(text: String, sinceMs: Int64? = nil, untilMs: Int64? = nil, after: String? = nil) {
        self.text = text
        self.sinceMs = sinceMs
        self.untilMs = untilMs
        self.after = after
    }

    /// "scheduled until T", "retry at T after <reason>", "queued since T", with times written by `time`.
    public func sentence(_ time: (Int64) -> String) -> String {
        var s = text
        if let untilMs { s += after == nil ? " until \(time(untilMs))" : " at \(time(untilMs))" }
        if let sinceMs { s += " since \(time(sinceMs))" }
        if let after { s += " after \(after)" }
        return s
    }
}
