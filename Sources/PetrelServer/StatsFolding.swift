import Logging
import PetrelStore
import ServiceLifecycle

/// Folds the statistics counters every `everyMs` (`StatisticsStore.foldStatistics`): the accept and final-status
/// transactions only stamp their messages, and this counts what was stamped since the last fold, so that a page
/// (which folds first too) has little left to count. Every node of a shared store runs it; the store makes sure
/// each message counts once.
struct StatsFolding: Service {
    let store: any StatisticsStore
    let everyMs: Int
    let logger: Logger

    /// Every 2 s: a page's own fold then has at most about 2 s of traffic to count.
    static let defaultEveryMs = 2000

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await store.foldStatistics()
                } catch is CancellationError {
                    return
                } catch {
                    logger.storeFailure("cannot fold the statistics counters", error)
                }
                try? await Task.sleep(for: .milliseconds(everyMs))
            }
        }
    }
}
