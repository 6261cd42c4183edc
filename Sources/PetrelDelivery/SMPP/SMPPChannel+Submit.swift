import NIOCore
import PetrelCore
import PetrelSMPP
import PetrelStore

/// One message on its way through a channel: its parts' answers are gathered until every part has one.
final class Job {
    let message: Message
    let total: Int
    let completion: @Sendable ([(Message, SubmitOutcome)]) -> Void
    var remaining = 0
    var accepted: [PartRecord] = []
    var retryAfterMs: Int64?
    var failure: (code: String, description: String, reroute: Bool)?
    var expired = false
    var reported = false

    init(message: Message, total: Int, completion: @escaping @Sendable ([(Message, SubmitOutcome)]) -> Void) {
        self.message = message
        self.total = total
        self.completion = completion
    }

    func noteRetry(afterMs: Int64) {
        retryAfterMs = max(retryAfterMs ?? 0, afterMs)
        remaining -= 1
    }
}

struct PendingPart {
    let job: Job
    let part: MessagePart
    var throttled = 0
    var submittedAtMs: Int64 = 0
}

extension SMPPChannel {
    /// Sends queued parts while a bound session has window room, the token bucket allows and no pause is on.
    func pump() {
        let now = clock()
        var wrote: Set<Int> = []
        defer {
            for i in wrote { sessions[i].handler?.flush() }
            updateCapacity()
        }
        while queueHead < queue.count {
            if now < pausedUntilMs {
                schedulePump(at: pausedUntilMs)
                return
            }
            guard let session = nextSession() else { return }
            var pending = queue[queueHead]
            if let expiry = pending.job.message.expiresAtMs, expiry <= now {
                queueHead += 1
                pending.job.expired = true
                pending.job.remaining -= 1
                finishIfDone(pending.job)
                continue
            }
            if let wait = bucket.take(nowMs: now) {
                schedulePump(at: now + wait)
                return
            }
            queueHead += 1
            let token = nextToken
            nextToken += 1
            pending.submittedAtMs = now
            inFlight[token] = pending
            switch sessions[session].handler?.submit(shortMessage(pending, now), token: token) ?? .noRoom {
            case .written:
                wrote.insert(session)
            case .noRoom:
                inFlight[token] = nil
                queueHead -= 1
                queue[queueHead] = pending
                return
            case .unencodable(let reason):
                // No session can send it: the message fails (another channel of its route may still take it).
                inFlight[token] = nil
                pending.job.failure = (MessageParts.Problem.code, "The message cannot be encoded for SMPP: \(reason)", true)
                pending.job.remaining -= 1
                finishIfDone(pending.job)
            }
        }
        if queueHead > 0 && queueHead == queue.count {
            queue.removeAll(keepingCapacity: true)
            queueHead = 0
        }
    }

    func schedulePump(at ms: Int64) {
        guard !pumpScheduled else { return }
        pumpScheduled = true
        loop.scheduleTask(in: .milliseconds(max(1, ms - clock()))) {
            self.pumpScheduled = false
            self.pump()
        }
    }

    /// A bound transmitter with window room, in turn.
    func nextSession() -> Int? {
        guard !sessions.isEmpty else { return nil }
        for step in 0..<sessions.count {
            let i = (roundRobin + step) % sessions.count
            if sessions[i].mode.canSubmit, let h = sessions[i].handler, h.isBound, h.windowFree > 0 {
                roundRobin = (i + 1) % sessions.count
                return i
            }
        }
        return nil
    }

    func shortMessage(_ p: PendingPart, _ now: Int64) -> ShortMessage {
        let m = p.job.message
        let sender = m.from.isEmpty ? configuration.defaultSender : m.from
        let alphanumeric = sender.contains { !$0.isNumber }
        var validity = ""
        if let expiry = m.expiresAtMs { validity = MessageParts.relativeValidity(seconds: max(1, (expiry - now) / 1000)) }
        return ShortMessage(
            source: Address(ton: alphanumeric ? configuration.sourceTON : 1, npi: alphanumeric ? configuration.sourceNPI : 1, address: sender),
            destination: .international(m.to), esmClass: p.part.esmClass, validityPeriod: validity,
            registeredDelivery: 1, dataCoding: p.part.dataCoding, shortMessage: p.part.shortMessage, tlvs: p.part.tlvs)
    }

    /// A submit_sm's answer (or its absence).
    func submitted(_ token: UInt64, _ result: ESMEStateMachine.SubmitResult) {
        guard var pending = inFlight.removeValue(forKey: token) else { return }
        let job = pending.job
        switch result {
        case .noResponse:
            // Unknown outcome: send again later (at least once).
            health.noResponse += 1
            health.lastError = "no submit_sm_resp in time"
            job.noteRetry(afterMs: 1000)
        case .response(let status, let messageID):
            DeliveryMetrics.submitLatency(channel: id, ms: clock() - pending.submittedAtMs)
            DeliveryMetrics.submitted(channel: id, outcome: status.handling == .accepted ? "accepted" : "\(status.handling)")
            if status.handling == .accepted {
                health.accepted += 1
            } else {
                health.refused += 1
                health.lastError = "submit_sm refused: \(status)"
            }
            switch status.handling {
            case .accepted:
                throttleBackoffMs = 0
                job.accepted.append(PartRecord(part: pending.part.index, total: pending.part.total, carrierId: messageID))
                job.remaining -= 1
            case .slowDown:
                throttleBackoffMs = min(max(throttleBackoffMs * 2, 200), 5000)
                pausedUntilMs = max(pausedUntilMs, clock() + throttleBackoffMs)
                pending.throttled += 1
                if pending.throttled <= 20 {
                    // Back in front: the part goes again once the pause is over.
                    if queueHead > 0 {
                        queueHead -= 1
                        queue[queueHead] = pending
                    } else {
                        queue.insert(pending, at: 0)
                    }
                    pump()
                    return
                }
                job.noteRetry(afterMs: 5000)
            case .retry:
                job.noteRetry(afterMs: 5000)
            case .reroute, .fail:
                job.failure = (status.name, "The carrier refused the message: \(status.name)", status.handling == .reroute)
                job.remaining -= 1
            }
        }
        finishIfDone(job)
        pump()
        onCapacity()
    }

    func finishIfDone(_ job: Job) {
        if job.remaining <= 0 { finish(job) }
    }

    func finish(_ job: Job) {
        guard !job.reported else { return }
        job.reported = true
        let outcome: SubmitOutcome
        if job.expired {
            outcome = .expired
        } else if let f = job.failure {
            outcome = .failed(code: f.code, description: f.description, reroute: f.reroute, accepted: job.accepted)
        } else if let after = job.retryAfterMs {
            outcome = .retry(afterMs: after, accepted: job.accepted)
        } else {
            let parts = job.accepted.sorted { $0.part < $1.part }
            outcome = .sent(
                SentRecord(
                    id: job.message.id, channel: id, carrierMessageId: parts.first?.carrierId ?? "", sentAtMs: clock(),
                    parts: parts),
                nil)
        }
        job.completion([(job.message, outcome)])
    }
}
