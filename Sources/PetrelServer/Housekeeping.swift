import Logging
import PetrelStore
import ServiceLifecycle

/// Periodic chores: forgetting nonces whose window has closed.
struct Housekeeping: Service {
    let store: any MessageStore
    let logger: Logger
    let clock: @Sendable () -> Int64
    var intervalMs: Int64 = 60_000

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let pruned = try await store.pruneNonces(nowMs: clock())
                    if pruned > 0 { logger.debug("pruned nonces", metadata: ["count": "\(pruned)"]) }
                } catch {
                    logger.warning("housekeeping failed", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: .milliseconds(intervalMs))
            }
        }
    }
}
