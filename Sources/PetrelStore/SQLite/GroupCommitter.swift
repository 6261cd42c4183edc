import Foundation
import GRDB
import NIOCore
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Group commit: every write of the process parks here, and one writer thread runs everything pending in one
/// transaction, then hands its callers to `WALSync`, which resumes them once the log is on disk. A client is
/// answered only after its rows are on disk, and the dispatcher's status changes share those fsyncs instead of
/// competing with them.
///
/// `@unchecked Sendable`: every stored property is a `let` of Sendable or thread-safe types, except `thread`, set
/// once in `init` before the instance is shared; jobs reach the writer thread only through `DrainingThread`.
final class GroupCommitter: @unchecked Sendable {
    private struct Job {
        let weight: Int
        let work: (Database) throws -> Void
        let finish: WALSync.Finish
    }

    /// Holds a job's result between its work (inside the transaction) and its finish (after the commit).
    /// `@unchecked Sendable`: written once by the writer thread, read once by the finish, which runs after the
    /// hand-over to `WALSync` (under its thread's lock), so the write happens before the read.
    private final class Slot<T>: @unchecked Sendable {
        var value: T?
    }

    private let writer: DatabasePool
    private let durability: WALSync
    private let hooks: (any TransactionHooks)?
    /// Nanoseconds the writer thread has spent in transactions: how busy the one writer is, for the purge's pacing.
    private let busy = Atomic<UInt64>(0)
    var busyNanoseconds: UInt64 { busy.load(ordering: .relaxed) }
    private var thread: DrainingThread<Job>!
    /// Upper bound of rows per transaction, so one commit never holds the writer for long.
    private static let maxWeightPerCommit = 20_000

    init(writer: DatabasePool, durability: WALSync, hooks: (any TransactionHooks)? = nil) {
        self.writer = writer
        self.durability = durability
        self.hooks = hooks
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
            ready: { [durability] pending in !durability.isSyncing || Self.weighs(pending, atLeast: Self.holdBelow) },
            handle: { [self] jobs in commit(jobs) }
        )
        durability.afterEachSync = { [thread] in thread!.poke() }
    }

    /// While the log syncs, waiting jobs of less weight (rows) than this are held for one transaction after the
    /// sync: committed now they would wait for the next sync anyway, and one bigger transaction writes fewer log
    /// pages and takes fewer locks per job than several small ones. Heavier work (a batch, a burst of singles)
    /// is committed at once, so the writer keeps up with the disk instead of taking turns with it.
    static let holdBelow = 16

    private static func weighs(_ jobs: [Job], atLeast limit: Int) -> Bool {
        var total = 0
        for job in jobs {
            total += job.weight
            if total >= limit { return true }
        }
        return false
    }

    /// Runs `work` inside a shared write transaction and returns its result once that transaction is durable.
    /// `weight` is roughly the rows it writes.
    func run<T: Sendable>(weight: Int = 1, _ work: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            // Resumed from the sync thread: the task goes to whichever loop the executor picks, no hop first.
            submit(weight: weight, work, home: nil) { continuation.resume(with: $0) }
        }
    }

    /// `run` for a caller that does not wait in a task: `then` gets the result once the transaction is durable, on
    /// the event loop `home` (see `WALSync.Finish`: one hop per loop per sync), or on the sync thread when nil.
    func submit<T: Sendable>(
        weight: Int = 1,
        _ work: @escaping @Sendable (Database) throws -> T,
        home: (any EventLoop)?,
        then: @escaping @Sendable (Result<T, any Error>) -> Void
    ) {
        let slot = Slot<T>()
        let job = Job(
            weight: weight,
            work: { db in slot.value = try work(db) },
            finish: WALSync.Finish(home: home) { result in
                then(result.map { slot.value! })
            }
        )
        if !thread.add(CollectionOfOne(job)) { then(.failure(StoreError.closed)) }
    }

    /// Stops taking work, commits what is pending and waits for the thread to end.
    func stop() {
        thread.stop()
    }

    private func commit(_ jobs: [Job]) {
        let started = DispatchTime.now().uptimeNanoseconds
        defer { busy.add(DispatchTime.now().uptimeNanoseconds &- started, ordering: .relaxed) }
        do {
            // BEGIN and COMMIT as cached statements: GRDB's `write` parses its BEGIN text on every transaction
            // (3-4% of this thread when the sandbox delivers while singles arrive).
            try writer.writeWithoutTransaction { db in
                try db.cachedStatement(sql: "BEGIN IMMEDIATE").execute()
                do {
                    for job in jobs { try job.work(db) }
                    try hooks?.beforeCommit(db)
                    try db.cachedStatement(sql: "COMMIT").execute()
                } catch {
                    if db.isInsideTransaction { try? db.cachedStatement(sql: "ROLLBACK").execute() }
                    hooks?.afterRollback()
                    throw error
                }
                hooks?.afterCommit()
            }
            let finish = jobs.map(\.finish)
            // A light group is synced here when the sync thread is idle: at low concurrency (a lone single) that
            // saves a thread wake-up per request. Heavier groups go to the sync thread, so the next commit can
            // run while the disk syncs.
            if Self.weighs(jobs, atLeast: Self.holdBelow) || !durability.syncHereIfIdle(finish) {
                durability.afterSync(finish)
            }
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
        case .database(let code, let message): return StoreErrorText.postgres(code: code, message: message)
        case .nodeNumberLost(let n):
            return
                "node number \(n) was given to another node while this one could not reach the database; restart this node"
        }
    }
}
