import NIOCore
import PetrelCore
import PetrelSMPP
import Synchronization

extension SMPPChannel {
    /// Carries out what the machine decided, until it has nothing more to do; then flushes the sessions written to
    /// and updates the mirrors. Runs on `loop`. Actions may call back into the channel (an unbind can close a
    /// connection at once); those calls run their own `run`, which is fine: the machine hands out one action at a
    /// time and is consistent between them.
    func run(nowMs: Int64? = nil) {
        let now = nowMs ?? clock()
        while let action = machine.next(nowMs: now) {
            switch action {
            case .submit(let submit):
                write(submit, nowMs: now)
            case .report(let report):
                report.reply([(report.message, report.outcome)])
            case .connect(let i):
                connect(i)
            case .unbind(let i):
                let handler = links[i].handler
                handler?.unbind()
            case .schedule(let timer, let atMs):
                loop.scheduleTask(in: .milliseconds(max(1, atMs - now))) {
                    self.machine.timerFired(timer, nowMs: self.clock())
                    self.run()
                }
            case .stopped:
                let waiters = stopWaiters
                stopWaiters = []
                // A moment for the unbind_resp, then the connections close whatever happened.
                loop.scheduleTask(in: .milliseconds(300)) {
                    for link in self.links { link.channel?.close(promise: nil) }
                    for w in waiters { w.succeed(()) }
                }
            }
        }
        for i in links.indices where links[i].unflushed {
            links[i].unflushed = false
            let handler = links[i].handler
            handler?.flush()
        }
        capacity.store(machine.capacity, ordering: .relaxed)
        boundCount.store(machine.boundTransmitters, ordering: .relaxed)
        pausedUntil.store(machine.throttledUntilMs, ordering: .relaxed)
    }

    private func write(_ submit: SubmitScheduler<Completion>.Submit, nowMs: Int64) {
        guard let handler = links[submit.session].handler else {
            machine.notWritten(submit.token, unencodable: nil, nowMs: nowMs)
            return
        }
        switch handler.submit(submit.message, token: submit.token) {
        case .written:
            links[submit.session].unflushed = true
        case .noRoom:
            machine.notWritten(submit.token, unencodable: nil, nowMs: nowMs)
        case .unencodable(let reason):
            machine.notWritten(submit.token, unencodable: reason, nowMs: nowMs)
        }
    }

    /// A submit_sm's answer (or its absence).
    func submitted(_ token: UInt64, _ result: ESMEStateMachine.SubmitResult) {
        let now = clock()
        guard let answer = machine.submitted(token, result, nowMs: now) else { return }
        if case .response(let status, _) = result {
            DeliveryMetrics.submitLatency(channel: id, ms: answer.latencyMs)
            let outcome = status.handling == .accepted ? "accepted" : "\(status.handling)"
            DeliveryMetrics.submitted(channel: id, outcome: outcome)
        }
        run(nowMs: now)
        if answer.freed { onCapacity() }
    }
}
