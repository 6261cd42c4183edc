import CoreMetrics
import Metrics

/// Delivery's metrics, through swift-metrics (the server bootstraps Prometheus behind it; without a bootstrap
/// they cost nothing). A façade: swift-prometheus has its own `Counter`.
enum DeliveryMetrics {
    static func submitLatency(channel: String, ms: Int64) {
        CoreMetrics.Timer(label: "petrel_smpp_submit_latency", dimensions: [("channel", channel)]).recordMilliseconds(
            ms
        )
    }

    static func submitted(channel: String, outcome: String) {
        CoreMetrics.Counter(
            label: "petrel_smpp_submits_total",
            dimensions: [("channel", channel), ("outcome", outcome)]
        ).increment()
    }

    static func receiptsPushed(_ count: Int, lagsMs: [Int64]) {
        CoreMetrics.Counter(label: "petrel_receipts_pushed_total").increment(by: count)
        let lag = CoreMetrics.Timer(label: "petrel_receipt_lag")
        for ms in lagsMs { lag.recordMilliseconds(ms) }
    }

    static func receiptPushFailed() {
        CoreMetrics.Counter(label: "petrel_receipt_push_failures_total").increment()
    }
}
