import Logging
import NIOConcurrencyHelpers
import PetrelCore
import PetrelDelivery
import PetrelSMPP
import PetrelStore

/// Sends the receipts ESMEs asked for (registered_delivery), and the inbound messages (MO) of their account, as
/// deliver_sm to receiver and transceiver binds of their account on this node. Rows are claimed from the store
/// with a lease (no other node sends them meanwhile), at most `window` deliver_sm unanswered per bind (receipts and
/// MO parts together; every part of an MO on one bind); a row leaves the store on deliver_sm_resp ESME_ROK (for
/// every part of an MO). Anything else (an error status, no answer within the lease, the bind gone) sends it again
/// later, so an ESME may see a receipt or MO twice (at-least-once), never none.
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
        /// Unanswered deliver_sm per connection: token (`token(receipt:)`, `token(mo:part:)`) → sent at.
        var inFlight: [UInt64: [UInt64: Int64]] = [:]
        /// Acknowledged rows not yet deleted, and rows to offer again at once (receipts, then MO).
        var done: [Int64] = []
        var release: [Int64] = []
        var moDone: [Int64] = []
        var moRelease: [Int64] = []
        /// MO sent and not wholly acknowledged: parts still to answer ESME_ROK (`Int.max` once one was refused:
        /// it is sent again after its lease), and when it was sent.
        var moParts: [Int64: (left: Int, sentAt: Int64)] = [:]
        var server: SMPPServer?
    }

    let store: any SMPPReceiptOutbox & SMPPMOOutbox
    let board: SMPPBindBoard
    let settings: Settings
    let logger: Logger
    let clock: @Sendable () -> Int64
    private let state = NIOLockedValueBox(State())
    /// An answer frees a window slot: the next round need not wait out `idleMs` (with every slot in flight, the
    /// rate was about window × binds per `idleMs`).
    private let wake = WakeSignal()

    init(
        store: any SMPPReceiptOutbox & SMPPMOOutbox,
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

    /// A receipt's token is its message id (positive); an MO part's has the top bit set, the inbound message's id
    /// above the low octet and the part's index in it.
    static func token(receipt messageID: Int64) -> UInt64 { UInt64(bitPattern: messageID) & ~moBit }
    static func token(mo id: Int64, part: Int) -> UInt64 {
        moBit | (UInt64(bitPattern: id) << 8) & ~moBit | UInt64(part & 0xFF)
    }
    static let moBit: UInt64 = 1 << 63
    static func mo(_ token: UInt64) -> Int64? {
        token & moBit == 0 ? nil : Int64(bitPattern: (token & ~moBit) >> 8)
    }

    /// The ESME answered a deliver_sm.
    func delivered(connection: UInt64, token: UInt64, status: CommandStatus) {
        defer { wake.signal() }
        state.withLockedValue { s in
            guard s.inFlight[connection]?.removeValue(forKey: token) != nil else { return }
            // An error status: the lease runs out and it is sent again then (not at once: an ESME that refuses
            // every receipt would otherwise get them in a tight loop).
            guard let id = Self.mo(token) else {
                if status == .ok { s.done.append(Int64(bitPattern: token)) }
                return
            }
            guard var sent = s.moParts[id] else { return }
            sent.left = status == .ok ? sent.left - 1 : Int.max
            if sent.left == 0 {
                s.moParts[id] = nil
                s.moDone.append(id)
            } else {
                s.moParts[id] = sent
            }
        }
    }

    /// A bind went: what it had not answered is offered to the next bind at once.
    func unbound(connection: UInt64) {
        defer { wake.signal() }
        state.withLockedValue { s in
            guard let left = s.inFlight.removeValue(forKey: connection) else { return }
            for token in left.keys {
                if let id = Self.mo(token) {
                    if s.moParts.removeValue(forKey: id) != nil { s.moRelease.append(id) }
                } else {
                    s.release.append(Int64(bitPattern: token))
                }
            }
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
            if !worked { await wake.wait(timeoutMs: settings.idleMs) }
        }
    }

    /// One round: the store learns what was answered, then free window slots get ready receipts. True when it
    /// sent or settled something (the next round comes at once).
    func round() async throws -> Bool {
        let nowMs = clock()
        let receivers = board.receivers()
        let (done, release, moDone, moRelease, freeSlots, server) = state.withLockedValue { s in
            defer {
                s.done = []
                s.release = []
                s.moDone = []
                s.moRelease = []
            }
            // Unanswered past the lease: the row is anyone's again; the slot is freed.
            for (c, sent) in s.inFlight {
                s.inFlight[c] = sent.filter { nowMs - $0.value < settings.leaseMs }
                if receivers[c] == nil { s.inFlight[c] = nil }
            }
            s.moParts = s.moParts.filter { nowMs - $0.value.sentAt < settings.leaseMs }
            var slots: [String: [(connection: UInt64, free: Int)]] = [:]
            for (c, account) in receivers {
                let free = settings.window - (s.inFlight[c]?.count ?? 0)
                if free > 0 { slots[account, default: []].append((c, free)) }
            }
            return (s.done, s.release, s.moDone, s.moRelease, slots, s.server)
        }
        try await store.smppReceiptsDone(messageIDs: done)
        try await store.releaseSMPPReceipts(messageIDs: release, nowMs: nowMs)
        try await store.smppMODone(ids: moDone)
        try await store.releaseSMPPMO(ids: moRelease, nowMs: nowMs)
        let settled = !done.isEmpty || !release.isEmpty || !moDone.isEmpty || !moRelease.isEmpty
        var slots = freeSlots
        var free = slots.values.joined().reduce(0) { $0 + $1.free }
        guard let server, free > 0 else { return settled }
        var batches: [UInt64: [(token: UInt64, message: ShortMessage)]] = [:]
        // MO first: a flood of receipts never keeps a customer's replies waiting.
        let mo = try await store.claimSMPPMO(
            accounts: Array(slots.keys),
            nowMs: nowMs,
            untilMs: nowMs + settings.leaseMs,
            limit: min(free, settings.batch)
        )
        var moUnsent: [Int64] = []
        state.withLockedValue { s in
            for m in mo {
                let parts = InboundDeliverSm.make(
                    from: m.from,
                    to: m.to,
                    text: m.text,
                    reference: UInt8(truncatingIfNeeded: m.id),
                    maxParts: settings.window
                )
                // Every part on one bind, within its window.
                guard var open = slots[m.account], let i = open.firstIndex(where: { $0.free >= parts.count }),
                    !parts.isEmpty
                else {
                    moUnsent.append(m.id)
                    continue
                }
                open[i].free -= parts.count
                free -= parts.count
                slots[m.account] = open
                s.moParts[m.id] = (parts.count, nowMs)
                for (n, part) in parts.enumerated() {
                    let token = Self.token(mo: m.id, part: n)
                    s.inFlight[open[i].connection, default: [:]][token] = nowMs
                    batches[open[i].connection, default: []].append((token, part))
                }
            }
        }
        try await store.releaseSMPPMO(ids: moUnsent, nowMs: nowMs)
        let claimed =
            free > 0
            ? try await store.claimSMPPReceipts(
                accounts: slots.filter { $0.value.contains { $0.free > 0 } }.map(\.key),
                nowMs: nowMs,
                untilMs: nowMs + settings.leaseMs,
                limit: min(free, settings.batch)
            ) : []
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
                let token = Self.token(receipt: r.messageID)
                s.inFlight[open[i].connection, default: [:]][token] = nowMs
                batches[open[i].connection, default: []].append((token, Self.message(r)))
            }
        }
        for (connection, batch) in batches where !server.deliver(connection: connection, batch) {
            unbound(connection: connection)
        }
        try await store.smppReceiptsDone(messageIDs: skipped)
        try await store.releaseSMPPReceipts(messageIDs: unsent, nowMs: nowMs)
        // Rows claimed and given back at once (no bind had room) are no work: the next round waits.
        return settled || !batches.isEmpty || !skipped.isEmpty
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
