import Logging
import PetrelStore
import ServiceLifecycle

/// Periodic chores: this node's heartbeat in a shared store, and forgetting nonces whose window has closed.
struct Housekeeping: Service {
    /// A node whose heartbeat is this old is gone: a new node may take its number.
    static let nodeStaleMs: Int64 = 60_000
    let store: any MessageStore
    let logger: Logger
    let clock: @Sendable () -> Int64
    var heartbeatMs: Int64 = 10_000
    var pruneEveryMs: Int64 = 60_000

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var prunedAt: Int64 = 0
            while !Task.isCancelled {
                do {
                    let now = clock()
                    try await store.heartbeat(nowMs: now)
                    if now - prunedAt >= pruneEveryMs {
                        prunedAt = now
                        let pruned = try await store.pruneNonces(nowMs: now)
                        if pruned > 0 { logger.debug("pruned nonces", metadata: ["count": "\(pruned)"]) }
                    }
                } catch {
                    logger.warning("housekeeping failed", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: .milliseconds(heartbeatMs))
            }
        }
    }
}
