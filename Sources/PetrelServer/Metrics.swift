import CoreMetrics
import Logging
import Metrics
import PetrelCore
import PetrelDelivery
import PetrelStore
import Prometheus
import ServiceLifecycle
import Synchronization

/// Prometheus metrics at `/metrics`: swift-metrics everywhere, one Prometheus registry behind it.
/// (A façade over CoreMetrics types: swift-prometheus has its own `Counter`.)
enum ServerMetrics {
    static let registry = PrometheusCollectorRegistry()

    /// swift-metrics can be bootstrapped once per process; every server of the process shares the registry.
    static let bootstrap: Void = {
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
    }()

    /// The request counters by action and code (a few dozen): making a `Counter` asks the Prometheus registry under
    /// its lock every time, ~1% of the server's time on singles.
    private static let requestCounters = Mutex<[String: CoreMetrics.Counter]>([:])

    static func request(action: String, code: String) {
        let key = action + "/" + code
        let counter = requestCounters.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = CoreMetrics.Counter(
                label: "petrel_api_requests_total",
                dimensions: [("action", action.isEmpty ? "none" : action), ("code", code)]
            )
            counters[key] = counter
            return counter
        }
        counter.increment()
    }

    private static let smppSubmitCounters = Mutex<[String: CoreMetrics.Counter]>([:])

    /// A message an ESME submitted to the SMPP server, by the command_status it was answered with.
    static func smppSubmit(status: String) {
        let counter = smppSubmitCounters.withLock { counters in
            if let counter = counters[status] { return counter }
            let counter = CoreMetrics.Counter(
                label: "petrel_smpp_server_submits_total",
                dimensions: [("status", status)]
            )
            counters[status] = counter
            return counter
        }
        counter.increment()
    }

    /// Binds an account holds on this node's SMPP server.
    static func smppBinds(account: String, _ count: Int) {
        gauge("petrel_smpp_server_binds", count, [("account", account)])
    }

    /// Made once, after `bootstrap` (see `requestCounters`).
    private static let acceptedCounter = CoreMetrics.Counter(label: "petrel_messages_accepted_total")

    static func accepted(_ count: Int) {
        acceptedCounter.increment(by: count)
    }

    static func gauge(_ label: String, _ value: Int, _ dimensions: [(String, String)] = []) {
        CoreMetrics.Gauge(label: label, dimensions: dimensions).record(value)
    }

    static func exposition() -> [UInt8] {
        var out: [UInt8] = []
        registry.emit(into: &out)
        return out
    }
}

/// Samples what is a level rather than an event: queue depth, outbox depth, binds and window use, receipts.
struct MetricsSampler: Service {
    let store: any ConsoleQueries & OutboxOperations & InboundLog & SMPPReceiptOutbox & SMPPMOOutbox
    let carriers: [SMPPChannel]
    var webCarriers: [HTTPCarrierChannel] = []
    let receipts: ReceiptProcessor
    let logger: Logger
    var intervalMs: Int64 = 5000

    /// Whether this node has `smppServer:` (its receipts pending are sampled).
    var smppServer = false
    /// Accounts given a receipts-pending figure: one whose rows are all gone is set to 0, not left at its last.
    let smppAccounts = SeenNames()

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await sample()
                try? await Task.sleep(for: .milliseconds(intervalMs))
            }
        }
    }

    func sample() async {
        do {
            let depth = try await store.queueDepth()
            for p in [Priority.urgent, .normal, .bulk] {
                ServerMetrics.gauge("petrel_queue_depth", depth[p] ?? 0, [("priority", "\(p)")])
            }
            let outbox = try await store.outboxCounts()
            ServerMetrics.gauge("petrel_receipt_outbox", outbox.pending, [("state", "pending")])
            ServerMetrics.gauge("petrel_receipt_outbox", outbox.parked, [("state", "parked")])
            let inbound = try await store.inboundOutboxCounts()
            ServerMetrics.gauge("petrel_inbound_outbox", inbound.pending, [("state", "pending")])
            ServerMetrics.gauge("petrel_inbound_outbox", inbound.parked, [("state", "parked")])
            ServerMetrics.gauge("petrel_inbound_pending_parts", try await store.pendingInboundParts(), [])
            if smppServer {
                // Receipts owed to ESMEs now (sent and unanswered, or waiting for a receiver bind), store-wide.
                let pending = try await store.smppReceiptCountsByAccount()
                // Inbound messages owed to ESMEs (sent and unanswered, or waiting for a receiver bind), store-wide.
                let mo = try await store.smppMOCountsByAccount()
                let accounts = smppAccounts.names.withLock { seen in
                    seen.formUnion(pending.keys)
                    seen.formUnion(mo.keys)
                    return seen
                }
                for account in accounts {
                    ServerMetrics.gauge(
                        "petrel_smpp_server_receipts_pending",
                        pending[account]?.ready ?? 0,
                        [("account", account)]
                    )
                    ServerMetrics.gauge("petrel_smpp_server_mo_pending", mo[account] ?? 0, [("account", account)])
                }
            }
        } catch is CancellationError {
            // Shutting down: not worth a warning.
        } catch {
            logger.storeFailure("cannot sample store metrics", error)
        }
        for c in carriers {
            let s = await c.snapshot()
            ServerMetrics.gauge("petrel_smpp_binds", s.bound, [("channel", c.id)])
            ServerMetrics.gauge("petrel_smpp_sessions", s.sessions, [("channel", c.id)])
            ServerMetrics.gauge("petrel_smpp_window_in_use", s.inFlight, [("channel", c.id)])
            ServerMetrics.gauge("petrel_smpp_window_size", s.window, [("channel", c.id)])
            // Why a channel has no bind, in words: 1 on the kind of its last failure (TLS, connect, bind), else 0.
            let problem = await c.healthSnapshot().problem
            for p in LinkProblem.allCases where p != .none {
                ServerMetrics.gauge(
                    "petrel_smpp_channel_problem",
                    p == problem ? 1 : 0,
                    [("channel", c.id), ("problem", p.rawValue)]
                )
            }
        }
        for c in webCarriers {
            let s = c.snapshot()
            ServerMetrics.gauge("petrel_http_channel_available", c.isAvailable ? 1 : 0, [("channel", c.id)])
            ServerMetrics.gauge("petrel_http_channel_in_flight", s.inFlight, [("channel", c.id)])
            ServerMetrics.gauge("petrel_http_channel_queued", s.queued, [("channel", c.id)])
        }
        let r = receipts.stats
        ServerMetrics.gauge("petrel_carrier_receipts_matched", r.matched)
        ServerMetrics.gauge("petrel_carrier_receipts_orphaned", r.orphaned)
        ServerMetrics.gauge("petrel_carrier_receipts_dropped", r.dropped)
    }
}

/// Names a gauge was given a value for (a class: the sampler is a struct, copied into its service group).
final class SeenNames: Sendable {
    let names = Mutex<Set<String>>([])
}
