import PetrelCore

/// How carrier receipts find their messages, for every store: a step machine that asks a store to look up or
/// change one thing at a time (a `Step`) and is told the answer, as postgres-nio's pool state machine does.
///
/// Why steps and not a generic function over a lookup protocol: the SQLite store matches inside its writer's
/// transaction, on the writer thread, synchronously (that is the hot path, and it must not suspend), while the
/// PostgreSQL store awaits each query. Swift cannot be generic over `async`, so the decisions live here once and
/// each store has a mechanical driver (`run(_:)` below, sync or async) that answers steps with SQL.
///
/// Three plans share one matching of a receipt against a stored id (a single-part message first, then a part):
/// - `receipts`: fresh receipts that did not name a single-part message exactly. The exact id as a part first, then
///   the channel's learned reading (a rule of thumb: under it a receipt of a copy Petrel never recorded, its
///   submit_sm_resp lost, may name another message); nothing found keeps the receipt as an orphan.
/// - `resolve`: old orphans. The same reading first (a receipt and the record of its submit can cross, each
///   committed by another node); then evidence: under which other reading does each orphan name a known message.
///   A reading alone explaining at least half of a channel's orphans is trusted (`ReceiptRules.trustedReadings`).
/// - `adopt`: orphans naming parts just recorded, under the same reading only (another reading of a young orphan
///   could be a different message); each is dropped once tried.
struct ReceiptMatcher {
    /// An orphaned receipt as stored: `key` names its row, `receipt.carrierId` is the normalised id.
    struct Orphan: Equatable {
        var key: Int64
        var receipt: CarrierReceipt
    }

    /// A part stored under a carrier id.
    struct StoredPart: Equatable {
        var messageId: Int64
        var part: Int
        var total: Int
    }

    /// What the machine asks of the store next.
    enum Step: Equatable {
        /// The oldest single-part message stored under this id: answer `.message`.
        case findMessage(channel: String, storedID: String)
        /// The most recently sent part stored under this id: answer `.part`.
        case findPart(channel: String, storedID: String)
        /// Record the receipt's final state on the part if it is still sent: answer `.marked` (false: a duplicate).
        case markPart(StoredPart, CarrierReceipt)
        /// Every part's state and error code: answer `.parts`.
        case readParts(messageId: Int64)
        /// Apply a status change: answer `.applied` with the change if it took.
        case apply(StatusUpdate)
        /// Whether any message or part is stored under this id: answer `.known`.
        case isKnown(channel: String, storedID: String)
        /// Store this receipt (its id normalised) as an orphan: answer `.done`.
        case keepOrphan(CarrierReceipt)
        /// Delete the orphan row with this key: answer `.done`.
        case dropOrphan(key: Int64)
        /// Finished: read `results`.
        case finished
    }

    enum Answer {
        /// The message's id and status (nil if the stored number is no status this build knows).
        case message((id: Int64, status: MessageStatus?)?)
        case part(StoredPart?)
        case marked(Bool)
        case parts([(MessageStatus, String)])
        case applied(StatusUpdate?)
        case known(Bool)
        case done
    }

    private(set) var results = ReceiptResults()
    /// Work still to start, last first.
    private var jobs: [Job]
    /// The job whose step the store is answering.
    private var waiting: Job?
    private let orphans: [Orphan]
    private var examined: [String: Int] = [:]
    private var hits: [String: [CarrierID.Reading: [Int]]] = [:]

    private init(jobs: [Job], orphans: [Orphan] = []) {
        self.jobs = jobs.reversed()
        self.orphans = orphans
    }

    static func receipts(_ receipts: [CarrierReceipt]) -> ReceiptMatcher {
        ReceiptMatcher(
            jobs: receipts.map { r in
                var tries = [Match.Lookup.part(CarrierID.normalize(r.carrierId))]
                if r.reading != .same, let stored = r.reading.storedID(r.carrierId) {
                    tries += [.message(stored), .part(stored)]
                }
                return .match(Match(r, tries), .fresh)
            }
        )
    }

    static func resolve(_ orphans: [Orphan]) -> ReceiptMatcher {
        let exact = orphans.indices.map { i in
            Job.match(Match(sameReading: orphans[i].receipt), .exactOrphan(i))
        }
        return ReceiptMatcher(jobs: exact + [.trust], orphans: orphans)
    }

    static func adopt(_ orphans: [Orphan]) -> ReceiptMatcher {
        let jobs = orphans.indices.map { i in
            Job.match(Match(sameReading: orphans[i].receipt), .adopt(i))
        }
        return ReceiptMatcher(jobs: jobs, orphans: orphans)
    }

    /// The first step; then `next` with each answer until `.finished`.
    mutating func start() -> Step { next(.done) }

    mutating func next(_ answer: Answer) -> Step {
        if let job = waiting {
            waiting = nil
            if let step = resume(job, answer) { return step }
        }
        while let job = jobs.popLast() {
            if let step = begin(job) { return step }
        }
        return .finished
    }

    private enum Job {
        case match(Match, Then)
        case known(orphan: Int, reading: CarrierID.Reading, storedID: String)
        case keep(CarrierReceipt)
        case drop(Int64)
        /// Weigh the evidence gathered over the orphans and match those a trusted reading explains.
        case trust
    }

    /// What a finished match means, by plan.
    private enum Then {
        case fresh
        case exactOrphan(Int)
        case trusted(Int)
        case adopt(Int)
    }

    private mutating func begin(_ job: Job) -> Step? {
        switch job {
        case .match(var m, let then):
            switch m.begin() {
            case .ask(let step):
                waiting = .match(m, then)
                return step
            case .outcome(let outcome):
                settle(outcome, then, m.receipt)
                return nil
            }
        case .known(let i, _, let stored):
            waiting = job
            return .isKnown(channel: orphans[i].receipt.channel, storedID: stored)
        case .keep(let r):
            waiting = job
            return .keepOrphan(r)
        case .drop(let key):
            waiting = job
            return .dropOrphan(key: key)
        case .trust:
            var follow: [Job] = []
            for (channel, reading, indexes) in ReceiptRules.trustedReadings(examined: examined, hits: hits) {
                for i in indexes {
                    let r = orphans[i].receipt
                    guard let stored = reading.storedID(r.carrierId) else { continue }
                    follow.append(.match(Match(r, [.message(stored), .part(stored)]), .trusted(i)))
                }
                results.readings[channel] = [reading: indexes.count]
            }
            jobs += follow.reversed()
            return nil
        }
    }

    private mutating func resume(_ job: Job, _ answer: Answer) -> Step? {
        switch job {
        case .match(var m, let then):
            switch m.resume(answer) {
            case .ask(let step):
                waiting = .match(m, then)
                return step
            case .outcome(let outcome):
                settle(outcome, then, m.receipt)
            }
        case .known(let i, let reading, _):
            if case .known(true) = answer {
                hits[orphans[i].receipt.channel, default: [:]][reading, default: []].append(i)
            }
        case .keep, .drop, .trust:
            break
        }
        return nil
    }

    /// Counts a match's outcome and queues what follows it.
    private mutating func settle(_ outcome: Match.Outcome, _ then: Then, _ receipt: CarrierReceipt) {
        if case .finished(let update) = outcome { results.finished.append(update) }
        switch (then, outcome) {
        case (.fresh, .none):
            var kept = receipt
            kept.carrierId = CarrierID.normalize(kept.carrierId)
            results.orphaned += 1
            jobs.append(.keep(kept))
        case (.fresh, _):
            results.matched += 1
        case (.exactOrphan(let i), .none):
            let r = orphans[i].receipt
            examined[r.channel, default: 0] += 1
            let readings = CarrierID.Reading.allCases.compactMap { reading in
                reading == .same
                    ? nil : reading.storedID(r.carrierId).map { Job.known(orphan: i, reading: reading, storedID: $0) }
            }
            jobs += readings.reversed()
        case (.exactOrphan(let i), _), (.trusted(let i), _):
            results.matched += 1
            jobs.append(.drop(orphans[i].key))
        case (.adopt(let i), _):
            jobs.append(.drop(orphans[i].key))
        }
    }
}
