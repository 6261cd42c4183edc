import Logging
import PetrelAPI
import PetrelCore
import PetrelDelivery
import PetrelStore
import ServiceLifecycle

/// Periodic chores: this node's heartbeat in a shared store (and with it each node's share of the system-wide
/// limits), the bind slots of channels with `maxBinds`, and forgetting nonces whose window has closed.
struct Housekeeping: Service {
    /// A node whose heartbeat is this old is gone: a new node may take its number, the others its share.
    static let nodeStaleMs: Int64 = 30_000
    /// A bind slot not renewed for this long is free for another node.
    static let bindSlotLeaseMs: Int64 = 20_000
    let store: any NodeRegistry & AcceptLog & SendLimitLog
    let throttle: Throttle
    let carriers: [SMPPChannel]
    let webCarriers: [HTTPCarrierChannel]
    let logger: Logger
    let clock: @Sendable () -> Int64
    var heartbeatMs: Int64 = 5000
    var pruneEveryMs: Int64 = 60_000

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            var prunedAt: Int64 = 0
            while !Task.isCancelled {
                let now = clock()
                do {
                    let nodes = try await store.heartbeat(nowMs: now, staleMs: Self.nodeStaleMs)
                    throttle.setNodes(nodes)
                    for carrier in carriers { carrier.setNodes(nodes) }
                    for carrier in webCarriers { carrier.setNodes(nodes) }
                } catch let error as StoreError {
                    if case .nodeNumberLost = error {
                        // Stop the whole server (the supervisor restarts it with a number of its own).
                        logger.storeFailure("stopping", error, level: .critical)
                        throw error
                    }
                    logger.storeFailure("heartbeat failed", error)
                } catch {
                    logger.storeFailure("heartbeat failed", error)
                }
                for carrier in carriers where carrier.configuration.maxBinds > 0 {
                    do {
                        let held = try await store.leaseBindSlots(
                            channel: carrier.id,
                            want: carrier.configuration.sessions,
                            total: carrier.configuration.maxBinds,
                            nowMs: now,
                            untilMs: now + Self.bindSlotLeaseMs
                        )
                        carrier.setAllowedSessions(held)
                    } catch {
                        // Without a renewed lease another node may take the slots: stop binding rather than exceed.
                        carrier.setAllowedSessions(0)
                        logger.storeFailure("cannot lease bind slots", error, metadata: ["channel": "\(carrier.id)"])
                    }
                }
                if now - prunedAt >= pruneEveryMs {
                    prunedAt = now
                    do {
                        let pruned = try await store.pruneNonces(nowMs: now)
                        if pruned > 0 { logger.debug("pruned nonces", metadata: ["count": "\(pruned)"]) }
                    } catch {
                        logger.storeFailure("cannot prune nonces", error)
                    }
                    do {
                        // Sends older than a day count against no limit, nor do caps' periods that ended, nor
                        // the pumping guard's buckets and lifts (its window is at most a day); a no-op without
                        // limits.
                        _ = try await store.pruneSendCounts(beforeMs: now - NumberLimits.horizonMs)
                    } catch {
                        logger.warning("cannot prune send counts", metadata: ["error": "\(error)"])
                    }
                }
                try? await Task.sleep(for: .milliseconds(heartbeatMs))
            }
        }
        try? await store.releaseBindSlots()
    }
}
