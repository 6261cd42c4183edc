import Foundation
import GRDB
import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// Group commit: every write of the process parks here, and one writer thread runs everything pending in one
/// transaction, then hands its callers to `WALSync`, which resumes them once the log is on disk. A client is
/// answered only after its rows are on disk, and the dispatcher's status changes share those fsyncs instead of
/// competing with them.
final class GroupCommitter: @unchecked Sendable {
    private struct Job {
        let weight: Int
        let work: (Database) throws -> Void
        let finish: WALSync.Finish
    }

    /// Holds a job's result between its work (inside the transaction) and its finish (after the commit).
    private final class Slot<T>: @unchecked Sendable {
        var value: T?
    }

    private let writer: DatabasePool
    private let durability: WALSync
    private var thread: DrainingThread<Job>!
    /// Upper bound of rows per transaction, so one commit never holds the writer for long.
    private static let maxWeightPerCommit = 20_000
    /// A group this heavy is committed at once even while a sync runs.
    private static let holdBelowWeight = 1_000
    /// Longest a job is held for a sync to end.
    private static let maxHold: TimeInterval = 0.005

    init(writer: DatabasePool, durability: WALSync) {
        self.writer = writer
        self.durability = durability
        thread = DrainingThread(
            name: "petrel-commit", maxHold: Self.maxHold,
            wakeWhileHolding: { pending in pending.reduce(0) { $0 + $1.weight } >= Self.holdBelowWeight },
            take: { [durability] pending, overdue in
                var take = 0
                var weight = 0
                while take < pending.count, take == 0 || weight + pending[take].weight <= Self.maxWeightPerCommit {
                    weight += pending[take].weight
                    take += 1
                }
                // While the disk syncs earlier commits, one made now would wait for the next sync anyway: hold it
                // until that sync ends and commit everything then, one transaction instead of several small ones.
                if !overdue, take == pending.count, weight < Self.holdBelowWeight, durability.isBusy { return 0 }
                return take
            },
            handle: { [self] jobs in commit(jobs) })
        durability.onSynced = { [thread] in thread?.nudge() }
    }

    /// Runs `work` inside a shared write transaction and returns its result once that transaction is durable.
    /// `weight` is roughly the rows it writes.
    func run<T: Sendable>(weight: Int = 1, _ work: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            submit(weight: weight, work) { continuation.resume(with: $0) }
        }
    }

    /// `run` for a caller that does not wait in a task: `then` gets the result once the transaction is durable, on
    /// the event loop that submitted (see `WALSync.Finish`), else on the sync thread.
    func submit<T: Sendable>(
        weight: Int = 1, _ work: @escaping @Sendable (Database) throws -> T, then: @escaping @Sendable (Result<T, any Error>) -> Void
    ) {
        let slot = Slot<T>()
        let job = Job(
            weight: weight,
            work: { db in slot.value = try work(db) },
            finish: WALSync.Finish(home: MultiThreadedEventLoopGroup.currentEventLoop) { result in
                then(result.map { slot.value! })
            })
        if !thread.add(CollectionOfOne(job)) { then(.failure(StoreError.closed)) }
    }

    /// Stops taking work, commits what is pending and waits for the thread to end.
    func stop() {
        thread.stop()
    }

    private func commit(_ jobs: [Job]) {
        do {
            try writer.write { db in
                for job in jobs { try job.work(db) }
            }
            durability.afterSync(jobs.map(\.finish))
        } catch {
            guard jobs.count > 1 else {
                jobs[0].finish.resume(.failure(error))
                return
            }
            // One failing job must not fail its neighbours: the transaction rolled back, run each on its own.
            for job in jobs { commit([job]) }
        }
    }
}

public enum StoreError: Error, CustomStringConvertible {
    case closed
    case corrupt(String)
    case invalidLocation(String)
    /// Another writer (another node) changed the row first; the transaction was rolled back.
    case conflict(String)
    /// The signature nonce was already used (seen by another node).
    case nonceUsed
    /// Another node took this node's number while it could not reach the database: it must restart.
    case nodeNumberLost(Int)
    /// PostgreSQL refused a statement: its SQLSTATE and message (never the statement's values).
    case database(code: String, message: String)

    public var description: String {
        switch self {
        case .closed: return "the store is closed"
        case .corrupt(let why): return "stored data is corrupt: \(why)"
        case .invalidLocation(let why): return why
        case .conflict(let why): return "conflicting write: \(why)"
        case .nonceUsed: return "the nonce was already used"
        case .database(let code, let message): return "PostgreSQL \(code): \(message)"
        case .nodeNumberLost(let n): return "node number \(n) was given to another node while this one could not reach the database; restart this node"
        }
    }
}
