import Foundation
import GRDB
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
        let finish: (Result<Void, any Error>) -> Void
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

    init(writer: DatabasePool, durability: WALSync) {
        self.writer = writer
        self.durability = durability
        thread = DrainingThread(
            name: "petrel-commit",
            take: { pending in
                var take = 0
                var weight = 0
                while take < pending.count, take == 0 || weight + pending[take].weight <= Self.maxWeightPerCommit {
                    weight += pending[take].weight
                    take += 1
                }
                return take
            },
            handle: { [self] jobs in commit(jobs) })
    }

    /// Runs `work` inside a shared write transaction and returns its result once that transaction is durable.
    /// `weight` is roughly the rows it writes.
    func run<T: Sendable>(weight: Int = 1, _ work: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let slot = Slot<T>()
            let job = Job(
                weight: weight,
                work: { db in slot.value = try work(db) },
                finish: { result in
                    switch result {
                    case .success: continuation.resume(returning: slot.value!)
                    case .failure(let error): continuation.resume(throwing: error)
                    }
                })
            if !thread.add(CollectionOfOne(job)) { continuation.resume(throwing: StoreError.closed) }
        }
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
                jobs[0].finish(.failure(error))
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
