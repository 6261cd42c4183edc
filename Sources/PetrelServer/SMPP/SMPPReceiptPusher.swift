import Logging
import NIOConcurrencyHelpers
import PetrelCore
import PetrelSMPP
import PetrelStore

/// Sends the receipts ESMEs asked for (registered_delivery) as deliver_sm to receiver and transceiver binds of
/// their account on this node. Rows are claimed from the store with a lease (no other node sends them meanwhile),
/// at most `window` unanswered per bind; a row leaves the store on deliver_sm_resp ESME_ROK. Anything else (an
/// error status, no answer within the lease, the bind gone) sends it again later, so an ESME may see a receipt
/// twice (at-least-once), never none.
final class SMPPReceiptPusher: Sendable {
    struct Settings: Sendable {
        /// Unanswered deliver_sm per bind.
        var window = 100
        /// How long a claimed receipt is this node's: unanswered after this, it is sent again.
        var leaseMs: Int64 = 30_000
        /// Rows claimed per round.
        var batch = 1000
        var idleMs: Int64 = 100
    }

    struct State {
        /// Unanswered deliver_sm per connection: message id → sent at.
        var inFlight: [UInt64: [Int64: Int64]] = [:]
        /// Acknowledged rows not yet deleted, and rows to offer again at once.
        var done: [Int64] = []
        var release: [Int64] = []
        var server: SMPPServer?
    }

    let store: any SMPPReceiptOutbox
    let board: SMPPBindBoard
    let settings: Settings
    let logger: Logger
    let clock: @Sendable () -> Int64
    private let state = NIOLockedValueBox(State())

    init(
        store: any SMPPReceiptOutbox,
        board: SMPPBindBoard,
        settings: Settings,
        logger: Logger,
        clock: @escaping @Sendable () -> Int64
    ) {
        self.store = store
        self.board = board
        self.settings = settings
        self.logger = logger
        self.clock = clock
    }

    func attach(_ server: SMPPServer) {
        state.withLockedValue { $0.server = server }
    }

    /// The ESME answered a receipt's deliver_sm.
    func delivered(connection: UInt64, messageID: Int64, status: CommandStatus) {
        state.withLockedValue { s in
            guard s.inFlight[connection]?.removeValue(forKey: messageID) != nil else { return }
            // An error status: the lease runs out and it is sent again then (not at once: an ESME that refuses
            // every receipt would otherwise get them in a tight loop).
            if status == .ok { s.done.append(messageID) }
        }
    }

    /// A bind went: what it had not answered is offered to the next bind at once.
    func unbound(connection: UInt64) {
        state.withLockedValue { s in
            guard let left = s.inFlight.removeValue(forKey: connection) else { return }
            s.release += left.keys
        }
    }

    func run() async {
        // Ends with the server it sends through (the store closes after it).
        while state.withLockedValue({ $0.server?.isStopped != true }) {
            var worked = false
            do {
                worked = try await round()
            } catch {
                logger.error("SMPP receipts: the store failed", metadata: ["error": "\(error)"])
            }
            if !worked { try? await Task.sleep(for: .milliseconds(settings.idleMs)) }
        }
    }

    /// One round: the store learns what was answered, then free window slots get ready receipts. True when it
    /// sent or settled something (the next round comes at once).
    func round() async throws -> Bool {
        let nowMs = clock()
        let receivers = board.receivers()
        let (done, release, freeSlots, server) = state.withLockedValue { s in
            defer {
                s.done = []
                s.release = []
            }
            // Unanswered past the lease: the row is anyone's again; the slot is freed.
            for (c, sent) in s.inFlight {
                s.inFlight[c] = sent.filter { nowMs - $0.value < settings.leaseMs }
                if receivers[c] == nil { s.inFlight[c] = nil }
            }
            var slots: [String: [(connection: UInt64, free: Int)]] = [:]
            for (c, account) in receivers {
                let free = settings.window - (s.inFlight[c]?.count ?? 0)
                if free > 0 { slots[account, default: []].append((c, free)) }
            }
            return (s.done, s.release, slots, s.server)
        }
        try await store.smppReceiptsDone(messageIDs: done)
        try await store.releaseSMPPReceipts(messageIDs: release, nowMs: nowMs)
        let free = freeSlots.values.joined().reduce(0) { $0 + $1.free }
        guard let server, free > 0 else { return !done.isEmpty || !release.isEmpty }
        let claimed = try await store.claimSMPPReceipts(
            accounts: Array(freeSlots.keys),
            nowMs: nowMs,
            untilMs: nowMs + settings.leaseMs,
            limit: min(free, settings.batch)
        )
        var slots = freeSlots
        var batches: [UInt64: [(token: UInt64, message: ShortMessage)]] = [:]
        var skipped: [Int64] = []
        var unsent: [Int64] = []
        state.withLockedValue { s in
            for r in claimed {
                // registered_delivery 2: only failures are reported.
                if r.failuresOnly && r.status == .delivered {
                    skipped.append(r.messageID)
                    continue
                }
                guard var open = slots[r.account], let i = open.firstIndex(where: { $0.free > 0 }) else {
                    unsent.append(r.messageID)
                    continue
                }
                open[i].free -= 1
                slots[r.account] = open
                s.inFlight[open[i].connection, default: [:]][r.messageID] = nowMs
                batches[open[i].connection, default: []].append((UInt64(bitPattern: r.messageID), Self.message(r)))
            }
        }
        for (connection, batch) in batches where !server.deliver(connection: connection, batch) {
            unbound(connection: connection)
        }
        try await store.smppReceiptsDone(messageIDs: skipped)
        try await store.releaseSMPPReceipts(messageIDs: unsent, nowMs: nowMs)
        return !claimed.isEmpty || !done.isEmpty || !release.isEmpty
    }

    static func message(_ r: SMPPReceipt) -> ShortMessage {
        let state: DeliveryReceipt.State =
            switch r.status {
            case .delivered: .delivered
            case .expired: .expired
            default: .undeliverable
            }
        // err: is three digits by convention; Petrel's codes are words, so a failure says 001.
        let err = r.status == .delivered ? "000" : "001"
        return DeliveryReceipt(messageID: String(r.messageID), state: state, error: err).deliverSm(
            handset: r.recipient,
            sender: r.sender,
            submittedAtMs: r.createdAtMs,
            doneAtMs: r.doneAtMs,
            text: r.text
        )
    }
}
