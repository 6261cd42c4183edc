import PetrelSMPP

/// Session events: binds coming and going, bind slots and nodes.
extension SubmitScheduler {
    /// Opens every session this node may bind.
    mutating func start() {
        for i in sessions.indices where sessions[i].state == .idle { connect(i) }
    }

    mutating func connect(_ i: Int) {
        if isStopping {
            sessions[i].state = .idle
        } else if sessions[i].slot >= allowedSessions {
            sessions[i].state = .parked  // until `setAllowedSessions` gives it a slot
        } else {
            sessions[i].state = .connecting
            ready.append(.connect(session: i))
        }
    }

    mutating func bound(_ i: Int) {
        guard sessions.indices.contains(i), sessions[i].state == .connecting else { return }
        sessions[i].state = .bound
        sessions[i].backoffMs = 0
        health.problem = .none
    }

    /// Wrong credentials do not fix themselves quickly: the next attempt waits the longest.
    mutating func bindRejected(_ i: Int) {
        guard sessions.indices.contains(i) else { return }
        sessions[i].backoffMs = configuration.reconnectMaxMs / 2
    }

    /// `jitter` (0...1) spreads the reconnects of many sessions: the delay is half the back-off plus that share of
    /// the other half.
    mutating func connectFailed(_ i: Int, error: String, nowMs: Int64, jitter: Double) {
        guard sessions.indices.contains(i), sessions[i].state == .connecting else { return }
        health.connectFailures += 1
        health.lastError = "connect failed: \(error)"
        if boundSessions == 0 { health.problem = LinkProblem.of(error, connecting: true) }
        reconnectLater(i, nowMs: nowMs, jitter: jitter)
    }

    /// The connection is gone. Its session answered every submit before this (`ESMEStateMachine` reports each one,
    /// unanswered ones as `.noResponse`); any it did not are treated the same way, so none is lost.
    mutating func closed(_ i: Int, reason: String, nowMs: Int64, jitter: Double) {
        guard sessions.indices.contains(i) else { return }
        switch sessions[i].state {
        case .connecting, .bound, .closing: break
        case .idle, .parked, .waiting: return
        }
        if sessions[i].inFlight > 0 {
            for (token, f) in inFlight where f.session == i { _ = submitted(token, .noResponse, nowMs: nowMs) }
        }
        sessions[i].inFlight = 0
        guard !isStopping else {
            sessions[i].state = .idle
            return
        }
        health.sessionsClosed += 1
        health.lastError = "session closed: \(reason)"
        if boundSessions == (sessions[i].state == .bound ? 1 : 0) {  // no other session is bound
            health.problem = LinkProblem.of(reason, connecting: false)
        }
        reconnectLater(i, nowMs: nowMs, jitter: jitter)
    }

    private mutating func reconnectLater(_ i: Int, nowMs: Int64, jitter: Double) {
        guard !isStopping else {
            sessions[i].state = .idle
            return
        }
        let backoff = min(max(sessions[i].backoffMs * 2, configuration.reconnectMinMs), configuration.reconnectMaxMs)
        sessions[i].backoffMs = backoff
        sessions[i].state = .waiting
        let spread = Int64((Double(backoff / 2) * min(max(jitter, 0), 1)).rounded())
        ready.append(.schedule(.reconnect(session: i), atMs: nowMs + backoff / 2 + spread))
    }

    /// How many of its sessions this node may bind (the bind slots it holds). Sessions above unbind; those below
    /// that were waiting for a slot connect. Returns whether anything changed.
    mutating func setAllowedSessions(_ n: Int) -> Bool {
        guard n != allowedSessions else { return false }
        allowedSessions = n
        for i in sessions.indices {
            if sessions[i].slot < n, sessions[i].state == .parked {
                connect(i)
            } else if sessions[i].slot >= n, sessions[i].state == .connecting || sessions[i].state == .bound {
                sessions[i].state = .closing  // its close parks it (after the back-off)
                ready.append(.unbind(session: i))
            }
        }
        return true
    }

    /// The channel's `tps` is for all nodes together: each of `n` live nodes takes its share.
    mutating func setNodes(_ n: Int, nowMs: Int64) {
        guard n != nodes, configuration.tps > 0 else { return }
        nodes = max(1, n)
        bucket = TokenBucket(rate: configuration.tps / Double(nodes), nowMs: nowMs)
    }
}
