/// Submits per second across a channel: tokens refill continuously; a burst of at most a tenth of a second.
struct TokenBucket {
    let rate: Double  // per second; 0 = unlimited
    private var tokens: Double
    private var lastMs: Int64

    init(rate: Double, nowMs: Int64) {
        self.rate = rate
        self.tokens = max(1, rate / 10)
        self.lastMs = nowMs
    }

    var capacity: Double { max(1, rate / 10) }

    /// Takes a token; nil when one was available, else the milliseconds until one will be.
    mutating func take(nowMs: Int64) -> Int64? {
        guard rate > 0 else { return nil }
        tokens = min(capacity, tokens + Double(nowMs - lastMs) * rate / 1000)
        lastMs = nowMs
        if tokens >= 1 {
            tokens -= 1
            return nil
        }
        return Int64(((1 - tokens) * 1000 / rate).rounded(.up))
    }
}
