import Foundation
import GRDB

#if canImport(Glibc)
import Glibc
#endif

/// Copies the write-ahead log into the database file from its own connection and thread.
///
/// SQLite's automatic checkpoint runs inside the committing transaction: every thousand pages a commit would
/// also write those pages to the database file and fsync it, while every waiting client waits with it. Here
/// checkpoints run beside the writer (PASSIVE mode never blocks it), and pages rewritten by many commits are
/// copied once. The writer's own automatic checkpoint stays on, at a much larger size, as a safety net.
///
/// `@unchecked Sendable`: `stopped` and `finished` are read and written only under `condition`'s lock, and the
/// connection is used by the thread until it ends, then closed by `stop`.
final class Checkpointer: @unchecked Sendable {
    private let connection: DatabaseQueue
    private let condition = NSCondition()
    private var stopped = false
    private var finished = false
    private let intervalMs: Int

    init(path: String, intervalMs: Int = 250) throws {
        var config = Configuration()
        config.busyMode = .timeout(10)
        config.label = "petrel-checkpoint"
        self.connection = try DatabaseQueue(path: path, configuration: config)
        try connection.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        self.intervalMs = intervalMs
        let thread = Thread { [self] in
            ThreadName.set("petrel-ckpt")
            self.loop()
        }
        thread.name = "petrel-checkpoint"
        thread.start()
    }

    private func loop() {
        while true {
            condition.lock()
            if !stopped { _ = condition.wait(until: Date().addingTimeInterval(Double(intervalMs) / 1000)) }
            let stop = stopped
            condition.unlock()
            if stop { break }
            _ = try? connection.writeWithoutTransaction { db in try db.checkpoint(.passive) }
        }
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    func stop() throws {
        condition.lock()
        stopped = true
        condition.broadcast()
        while !finished { condition.wait() }
        condition.unlock()
        try connection.close()
    }
}
