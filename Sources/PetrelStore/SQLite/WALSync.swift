import Foundation
import NIOCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Makes committed transactions durable on a thread of its own, so the writer never waits for the disk.
///
/// The writer connection commits with `synchronous=NORMAL`: in WAL mode that writes the transaction's frames to
/// the log without an fsync, and SQLite stays consistent across a power cut (a frame that did not reach the disk
/// fails its checksum and ends the log there). Durability is added here: after each commit the writer hands its
/// callers to this thread, which `fdatasync`s the log file and only then resumes them. One fdatasync covers every
/// commit written before it started, so while the disk syncs one group, the writer can already run the next: with
/// `synchronous=FULL` the writer spent about half its time waiting in fdatasync. (Light work waiting during a sync
/// is held for one transaction after it, see `GroupCommitter.holdBelow`: `isSyncing` and `afterEachSync`.)
///
/// Every caller is resumed only after a sync that began after its transaction committed, so what a caller saw
/// (its own rows, and everything committed before them) is on disk before it acts on it: a client's answer, a
/// message handed to a carrier, a receipt acknowledged to an SMSC.
///
/// `@unchecked Sendable`: `fd`, `inode` and `failure` are touched only by the sync thread, by the writer while the
/// sync thread is idle (`syncHereIfIdle`), and by `stop` after both ended; `thread` and `afterEachSync` are set once before the first commit; the rest is atomic or locked.
final class WALSync: @unchecked Sendable {
    /// What to do once a commit is on disk, and where: a request served on an event loop without a task (the RPC
    /// door) is answered on its connection's loop. Each loop gets one closure per sync with all of its callers, so
    /// a group of 64 answers costs two cross-thread hand-overs, not 64. Callers without a home (tasks) are resumed
    /// from this thread.
    struct Finish {
        let home: (any EventLoop)?
        let resume: (Result<Void, any Error>) -> Void
    }
    private let path: String
    private var thread: DrainingThread<Finish>!
    private var fd: Int32 = -1
    private var inode: ino_t = 0
    /// After a failed sync nothing written since can be trusted to reach the disk (Linux reports a lost write
    /// once, then forgets it): every later commit fails until the store is opened again.
    private var failure: (any Error)?
    private let syncs = Mutex(0)
    /// Callers handed over and not yet resumed: while there are any, a sync is running or about to.
    private let unsynced = Atomic<Int>(0)
    /// Called after each sync (the writer may be holding commits for it).
    var afterEachSync: (@Sendable () -> Void)?

    /// True while a sync is running or due: a commit made now waits for the one after it anyway.
    var isSyncing: Bool { unsynced.load(ordering: .acquiring) > 0 }

    /// Syncs done so far (for tests).
    var syncCount: Int { syncs.withLock { $0 } }

    init(walPath: String) {
        self.path = walPath
        // Every caller waiting when a sync begins is resumed by it: one fdatasync per group.
        thread = DrainingThread(name: "petrel-fsync") { [self] group in
            let result = sync()
            if case .success = result { syncs.withLock { $0 += 1 } }
            unsynced.subtract(group.count, ordering: .releasing)
            afterEachSync?()
            Self.resume(group, result)
        }
    }

    /// Resumes `finish` once everything committed so far is on disk.
    func afterSync(_ finish: [Finish]) {
        unsynced.add(finish.count, ordering: .releasing)
        if !thread.add(finish) {
            unsynced.subtract(finish.count, ordering: .releasing)
            for f in finish { f.resume(.failure(StoreError.closed)) }
        }
    }

    /// Syncs on the calling thread (the writer's) and resumes `finish`, when no sync is running or due; false, with
    /// nothing done, otherwise. A light commit then costs one thread wake-up fewer: the sync thread would only have
    /// been woken to do the same. Only the writer hands work to this class, so when nothing it handed over is
    /// waiting the sync thread is idle and stays so until the writer's next `afterSync`: the two never sync at once.
    func syncHereIfIdle(_ finish: [Finish]) -> Bool {
        guard unsynced.load(ordering: .acquiring) == 0 else { return false }
        let result = sync()
        if case .success = result { syncs.withLock { $0 += 1 } }
        Self.resume(finish, result)
        return true
    }

    private static func resume(_ group: [Finish], _ result: Result<Void, any Error>) {
        var byLoop: [ObjectIdentifier: (loop: any EventLoop, resumes: [(Result<Void, any Error>) -> Void])] = [:]
        for f in group {
            guard let loop = f.home else {
                f.resume(result)
                continue
            }
            byLoop[ObjectIdentifier(loop), default: (loop, [])].resumes.append(f.resume)
        }
        for (loop, resumes) in byLoop.values {
            nonisolated(unsafe) let resumes = resumes
            loop.execute { for r in resumes { r(result) } }
        }
    }

    /// Syncs what is waiting, then ends the thread.
    func stop() {
        thread.stop()
        if fd >= 0 { close(fd) }
    }

    private func sync() -> Result<Void, any Error> {
        if let failure { return .failure(failure) }
        do {
            try openLog()
            guard fdatasync(fd) == 0 else {
                throw StoreError.corrupt("fdatasync of \(path) failed: \(String(cString: strerror(errno)))")
            }
            return .success(())
        } catch {
            failure = error
            return .failure(error)
        }
    }

    /// Opens the log file, again if it was replaced (SQLite deletes it when the last connection closes).
    private func openLog() throws {
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw StoreError.corrupt("the write-ahead log \(path) is missing: \(String(cString: strerror(errno)))")
        }
        if fd >= 0, st.st_ino == inode { return }
        if fd >= 0 { close(fd) }
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw StoreError.corrupt("cannot open the write-ahead log \(path): \(String(cString: strerror(errno)))")
        }
        inode = st.st_ino
    }
}
