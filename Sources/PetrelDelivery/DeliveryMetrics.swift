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

extension DeliveryMetrics {
    static func inboundPushed(_ count: Int, lagsMs: [Int64]) {
        CoreMetrics.Counter(label: "petrel_inbound_pushed_total").increment(by: count)
        let lag = CoreMetrics.Timer(label: "petrel_inbound_push_lag")
        for ms in lagsMs { lag.recordMilliseconds(ms) }
    }

    static func inboundPushFailed() {
        CoreMetrics.Counter(label: "petrel_inbound_push_failures_total").increment()
    }

    static func inboundStored(parts: Int, messages: Int, duplicates: Int) {
        CoreMetrics.Counter(label: "petrel_inbound_parts_total").increment(by: parts)
        CoreMetrics.Counter(label: "petrel_inbound_messages_total").increment(by: messages)
        CoreMetrics.Counter(label: "petrel_inbound_duplicates_total").increment(by: duplicates)
    }
}

extension DeliveryMetrics {
    /// One answer of an HTTP channel's provider by status (0: none, the request failed or timed out).
    static func httpAnswered(channel: String, status: Int) {
        CoreMetrics.Counter(
            label: "petrel_http_channel_requests_total",
            dimensions: [("channel", channel), ("status", "\(status)")]
        ).increment()
    }
}
