import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

enum Scenario {
    case batch(recipients: Int, connections: Int)
    case single(connections: Int)
    case baseline(connections: Int)

    var name: String {
        switch self {
        case .batch: return "batch"
        case .single: return "single"
        case .baseline: return "baseline"
        }
    }

    var connections: Int {
        switch self {
        case .batch(_, let c), .single(let c), .baseline(let c): return c
        }
    }

    /// A valid Hong Kong mobile number that the sandbox delivers (no 555/666/777 ending).
    static func number(_ i: Int) -> String { "8529\(String(format: "%07d", (i * 7919) % 8_000_000 + 1_000_000))" }

    func run(_ target: BenchTarget, seconds: Double) async throws -> BenchResult {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        let start = ContinuousClock.now
        let perConnection = try await withThrowingTaskGroup(of: Tally.self) { group in
            for c in 0..<connections {
                group.addTask { try await self.drive(target, connection: c, until: deadline) }
            }
            var all: [Tally] = []
            for try await t in group { all.append(t) }
            return all
        }
        let elapsed = (ContinuousClock.now - start).seconds
        var total = Tally()
        for t in perConnection { total.merge(t) }
        return BenchResult(scenario: name, connections: connections, seconds: elapsed, tally: total)
    }

    func drive(_ target: BenchTarget, connection: Int, until deadline: ContinuousClock.Instant) async throws -> Tally {
        var tally = Tally()
        let conn = try await LoadConnection.connect(host: target.host, port: target.port)
        try await conn.run { send in
            var i = connection * 1_000_003
            while ContinuousClock.now < deadline {
                i += 1
                let head: HTTPRequestHead
                var units = 1
                switch self {
                case .batch(let n, _):
                    let to = (0..<n).map { "\"\(Self.number(i * n + $0))\"" }.joined(separator: ",")
                    let texts = (0..<n).map { "\"Your order \(i)-\($0) has shipped\"" }.joined(separator: ",")
                    head = target.signedHead(
                        action: "BatchSendMessageToGlobe", params: [("Message", "[\(texts)]"), ("To", "[\(to)]"), ("Type", "NOTIFY")])
                    units = n
                case .single:
                    head = target.signedHead(
                        action: "SendMessageToGlobe", params: [("Message", "Your code is \(i % 1_000_000)"), ("To", Self.number(i)), ("Type", "OTP")])
                case .baseline:
                    var h = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/healthz")
                    h.headers.add(name: "Host", value: target.authority)
                    head = h
                }
                let sent = ContinuousClock.now
                let response = try await send(head, nil)
                let latency = ContinuousClock.now - sent
                let ok: Bool
                switch self {
                case .baseline: ok = response.status == 200
                case .batch(let n, _): ok = response.status == 200 && response.body.readableBytesView.firstRange(of: Array("\"SuccessCount\":\"\(n)\"".utf8)) != nil
                case .single: ok = response.status == 200 && response.body.readableBytesView.firstRange(of: Array("\"ResponseCode\":\"OK\"".utf8)) != nil
                }
                if ok {
                    tally.record(latency, units: units)
                } else {
                    tally.errors += 1
                    if tally.errors == 1 {
                        print("bench: unexpected answer \(response.status): \(String(buffer: response.body).prefix(300))")
                    }
                }
            }
        }
        return tally
    }
}

struct Tally {
    var requests = 0
    var units = 0
    var errors = 0
    var latenciesUs: [Int] = []

    mutating func record(_ d: Duration, units: Int) {
        requests += 1
        self.units += units
        latenciesUs.append(Int(d.seconds * 1_000_000))
    }

    mutating func merge(_ o: Tally) {
        requests += o.requests
        units += o.units
        errors += o.errors
        latenciesUs += o.latenciesUs
    }
}

struct BenchResult {
    let scenario: String
    let connections: Int
    let seconds: Double
    let tally: Tally

    var sorted: [Int] { tally.latenciesUs.sorted() }

    func percentile(_ p: Double) -> Double {
        let s = sorted
        guard !s.isEmpty else { return 0 }
        return Double(s[min(s.count - 1, Int(Double(s.count) * p))]) / 1000
    }

    var requestsPerSecond: Double { Double(tally.requests) / seconds }
    var unitsPerSecond: Double { Double(tally.units) / seconds }

    var line: String {
        String(
            format: "%-9@ conns %3d  %9.0f req/s  %10.0f recipients/s  p50 %7.2f ms  p90 %7.2f ms  p99 %7.2f ms  errors %d",
            scenario as NSString, connections, requestsPerSecond, unitsPerSecond, percentile(0.5), percentile(0.9),
            percentile(0.99), tally.errors)
    }

    var json: String {
        String(
            format: #"{"scenario":"%@","connections":%d,"seconds":%.2f,"requests":%d,"requestsPerSecond":%.1f,"recipientsPerSecond":%.1f,"p50ms":%.3f,"p90ms":%.3f,"p99ms":%.3f,"errors":%d}"#,
            scenario as NSString, connections, seconds, tally.requests, requestsPerSecond, unitsPerSecond, percentile(0.5),
            percentile(0.9), percentile(0.99), tally.errors)
    }
}

extension Duration {
    var seconds: Double {
        let c = components
        return Double(c.seconds) + Double(c.attoseconds) / 1e18
    }
}
