import Foundation
import GRDB

/// Group commit: concurrent requests park here, one writer thread commits everything pending in one
/// transaction (one fsync), then resumes them all. A client is answered only after its rows are on disk.
final class GroupCommitter: @unchecked Sendable {
    typealias Apply = @Sendable (Database, WriteBatch) throws -> Void

    private struct Job {
        let batch: WriteBatch
        let continuation: CheckedContinuation<Void, any Error>
    }

    private let condition = NSCondition()
    private var pending: [Job] = []
    private var stopped = false
    private var finished = false
    private let writer: DatabasePool
    private let apply: Apply
    /// Upper bound of messages per transaction, so one commit never holds the writer for long.
    private let maxMessagesPerCommit = 20_000

    init(writer: DatabasePool, apply: @escaping Apply) {
        self.writer = writer
        self.apply = apply
        let thread = Thread { [self] in self.run() }
        thread.name = "petrel-group-commit"
        thread.start()
    }

    func submit(_ batch: WriteBatch) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            condition.lock()
            if stopped {
                condition.unlock()
                continuation.resume(throwing: StoreError.closed)
                return
            }
            pending.append(Job(batch: batch, continuation: continuation))
            condition.signal()
            condition.unlock()
        }
    }

    /// Stops taking work, commits what is pending and waits for the thread to end.
    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        while !finished { condition.wait() }
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while pending.isEmpty && !stopped { condition.wait() }
            if pending.isEmpty && stopped {
                finished = true
                condition.broadcast()
                condition.unlock()
                return
            }
            var jobs: [Job] = []
            var messages = 0
            while let job = pending.first, jobs.isEmpty || messages + job.batch.messages.count <= maxMessagesPerCommit {
                messages += job.batch.messages.count
                jobs.append(pending.removeFirst())
            }
            condition.unlock()
            commit(jobs)
        }
    }

    private func commit(_ jobs: [Job]) {
        do {
            try writer.write { db in
                for job in jobs { try apply(db, job.batch) }
            }
            for job in jobs { job.continuation.resume() }
        } catch {
            guard jobs.count > 1 else {
                jobs[0].continuation.resume(throwing: error)
                return
            }
            // One bad batch must not fail its neighbours: commit each on its own.
            for job in jobs { commit([job]) }
        }
    }
}

public enum StoreError: Error, CustomStringConvertible {
    case closed
    case corrupt(String)
    case invalidLocation(String)

    public var description: String {
        switch self {
        case .closed: return "the store is closed"
        case .corrupt(let why): return "stored data is corrupt: \(why)"
        case .invalidLocation(let why): return why
        }
    }
}
