import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

enum Scenario {
    case batch(recipients: Int, connections: Int)
    case single(connections: Int)
    case baseline(connections: Int)
    /// dysmsapi 2017-05-25's SendSms with `recipients` numbers (1: the single send) under a template made for the run.
    case sendSms(recipients: Int, connections: Int)

    /// The TemplateCode the SendSms scenarios send under (made by `makeTemplate` on the run's server).
    static let template = Mutex("")

    /// The first request number of the next run (random at start, so two processes rarely share numbers).
    static let nextRequest = Mutex(Int.random(in: 0..<900_000))

    var name: String {
        switch self {
        case .batch: return "batch"
        case .single: return "single"
        case .baseline: return "baseline"
        case .sendSms(let n, _): return n == 1 ? "sendsms" : "sendsms-batch"
        }
    }

    var connections: Int {
        switch self {
        case .batch(_, let c), .single(let c), .baseline(let c), .sendSms(_, let c): return c
        }
    }

    func with(connections c: Int) -> Scenario {
        switch self {
        case .batch(let n, _): return .batch(recipients: n, connections: c)
        case .single: return .single(connections: c)
        case .baseline: return .baseline(connections: c)
        case .sendSms(let n, _): return .sendSms(recipients: n, connections: c)
        }
    }

    /// A valid Hong Kong mobile number (92x0xxxx-92x8xxxx blocks) that the sandbox and petrel smsc deliver.
    /// Any 900,000 consecutive `i` give distinct numbers (a permutation: 7919 is prime to 900,000), so a run under
    /// per-number limits is not refused for numbers it repeated.
    static func number(_ i: Int) -> String {
        let n = ((i % 900_000 + 900_000) % 900_000) * 7919 % 900_000
        var digits = Array("85292".utf8) + [UInt8(ascii: "0") + UInt8(n % 9)]
        var rest = n / 9
        var tail = [UInt8](repeating: UInt8(ascii: "0"), count: 5)
        for k in stride(from: 4, through: 0, by: -1) {
            tail[k] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
        }
        // Keep clear of the sandbox's and petrel smsc's magic endings (555, 666, 777, 888, 90x).
        if tail[2] == tail[3], tail[3] == tail[4], [5, 6, 7, 8].contains(tail[4] - UInt8(ascii: "0")) { tail[4] -= 1 }
        if tail[2] == UInt8(ascii: "9"), tail[3] == UInt8(ascii: "0") { tail[3] = UInt8(ascii: "1") }
        digits += tail
        return String(decoding: digits, as: UTF8.self)
    }

    /// Makes the run's template with 2017-05-25's AddSmsTemplate (one request on one connection) and keeps its code.
    static func makeTemplate(_ target: BenchTarget) async throws {
        let head = target.signedHead(
            action: "AddSmsTemplate",
            params: [
                ("TemplateType", "0"), ("TemplateName", "bench"), ("TemplateContent", "Your code is ${code}"),
                ("Remark", "petrel-bench"),
            ],
            version: "2017-05-25"
        )
        let request = Scenario.baseline(connections: 1).bytes(head)
        let found = Mutex("")
        _ = try await LoadClient.run(
            host: target.host,
            port: target.port,
            connections: 1,
            seconds: 10,
            units: 1,
            source: RequestSource(prepared: [ByteBuffer(bytes: request)], limit: 1) { _ in request },
            check: { _, body in
                let text = String(buffer: body)
                if let r = text.range(of: "\"TemplateCode\":\"") {
                    found.withLock { $0 = String(text[r.upperBound...].prefix { $0 != "\"" }) }
                }
                return true
            }
        )
        let code = found.withLock { $0 }
        guard !code.isEmpty else { throw CLIError(description: "AddSmsTemplate gave no TemplateCode") }
        template.withLock { $0 = code }
    }

    var units: Int {
        if case .batch(let n, _) = self { return n }
        if case .sendSms(let n, _) = self { return n }
        return 1
    }

    /// Requests signed ahead of a timed window of `seconds` (more are signed on the fly if the server is faster).
    func preparedCount(seconds: Double) -> Int {
        switch self {
        case .batch: return Int(140 * seconds)  // ~70 KB each; the fastest runs here take ~110 per second
        case .single: return Int(30_000 * seconds)  // ~1 KB each; the fastest runs here serve ~20,000 per second
        case .baseline: return 0
        case .sendSms(let n, _): return n == 1 ? Int(30_000 * seconds) : Int(140 * seconds)
        }
    }

    /// The bytes of request number `i`: a signed POST as the official SDK sends it, or GET /healthz.
    func encode(_ target: BenchTarget, _ i: Int) -> [UInt8] {
        let head: HTTPRequestHead
        switch self {
        case .batch(let n, _):
            let to = (0..<n).map { "\"\(Self.number(i * n + $0))\"" }.joined(separator: ",")
            let texts = (0..<n).map { "\"Your order \(i)-\($0) has shipped\"" }.joined(separator: ",")
            head = target.signedHead(
                action: "BatchSendMessageToGlobe",
                params: [("Message", "[\(texts)]"), ("To", "[\(to)]"), ("Type", "NOTIFY")]
            )
        case .single:
            head = target.signedHead(
                action: "SendMessageToGlobe",
                params: [("Message", "Your code is \(i % 1_000_000)"), ("To", Self.number(i)), ("Type", "OTP")]
            )
        case .sendSms(let n, _):
            let to = (0..<n).map { Self.number(i * n + $0) }.joined(separator: ",")
            head = target.signedHead(
                action: "SendSms",
                params: [
                    ("PhoneNumbers", to), ("SignName", "Petrel"), ("TemplateCode", Self.template.withLock { $0 }),
                    ("TemplateParam", "{\"code\":\"\(i % 1_000_000)\"}"),
                ],
                version: "2017-05-25"
            )
        case .baseline:
            return Array("GET /healthz HTTP/1.1\r\nHost: \(target.authority)\r\n\r\n".utf8)
        }
        return bytes(head)
    }

    /// A request head as bytes on the wire.
    func bytes(_ head: HTTPRequestHead) -> [UInt8] {
        var out = Array("\(head.method.rawValue) \(head.uri) HTTP/1.1\r\n".utf8)
        for h in head.headers {
            out += Array(h.name.utf8)
            out += [UInt8(ascii: ":"), UInt8(ascii: " ")]
            out += Array(h.value.utf8)
            out += [13, 10]
        }
        out += [13, 10]
        return out
    }

    /// What a successful answer's body contains (nil: any 200 will do).
    var expected: [UInt8]? {
        switch self {
        case .baseline: return nil
        case .batch(let n, _): return Array("\"SuccessCount\":\"\(n)\"".utf8)
        case .single: return Array("\"ResponseCode\":\"OK\"".utf8)
        case .sendSms: return Array("\"Code\":\"OK\"".utf8)
        }
    }

    /// Checks an answer on the load generator's hot path: a plain byte search, the needle built once per run.
    static func check(_ status: Int, _ body: ByteBuffer, expected: [UInt8]?) -> Bool {
        guard status == 200 else { return false }
        guard let expected, let first = expected.first else { return true }
        return body.withUnsafeReadableBytes { hay in
            expected.withUnsafeBytes { needle in
                var i = 0
                while i + needle.count <= hay.count {
                    if hay[i] == first, memcmp(hay.baseAddress! + i, needle.baseAddress!, needle.count) == 0 {
                        return true
                    }
                    i += 1
                }
                return false
            }
        }
    }

    func run(_ target: BenchTarget, seconds: Double, prepare: Bool, serverPid: Int32? = nil) async throws -> BenchResult
    {
        if case .sendSms = self { try await Self.makeTemplate(target) }
        let count = prepare ? preparedCount(seconds: seconds) : 0
        // Each run of this process goes on from where the last ended (the warm-up's numbers are not sent again: under
        // per-number limits a repeat is refused, and the refusals changed a run's rate).
        let base = Self.nextRequest.withLock { $0 }
        let prepared = await withTaskGroup(of: [ByteBuffer].self) { group in
            let chunks = 8
            for c in 0..<chunks {
                group.addTask {
                    stride(from: c, to: count, by: chunks).map { ByteBuffer(bytes: self.encode(target, base + $0)) }
                }
            }
            var all: [ByteBuffer] = []
            for await part in group { all += part }
            return all
        }
        let source = RequestSource(prepared: prepared) { self.encode(target, base + $0) }
        let expected = self.expected
        let start = ContinuousClock.now
        let cpuBefore = (CPUTime.of(pid: nil), CPUTime.of(pid: serverPid))
        let tally = try await LoadClient.run(
            host: target.host,
            port: target.port,
            connections: connections,
            seconds: seconds,
            units: units,
            source: source,
            check: { [expected] in Self.check($0, $1, expected: expected) }
        )
        let elapsed = (ContinuousClock.now - start).seconds
        Self.nextRequest.withLock { $0 += source.used }
        var result = BenchResult(scenario: name, connections: connections, seconds: elapsed, tally: tally)
        result.clientCPU = (CPUTime.of(pid: nil) - cpuBefore.0) / elapsed
        if serverPid != nil { result.serverCPU = (CPUTime.of(pid: serverPid) - cpuBefore.1) / elapsed }
        if prepare, count > 0, source.used > count {
            print("bench: \(name): \(source.used - count) requests were signed during the window (\(count) ahead)")
        }
        return result
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
    /// CPU cores used during the window by the load generator and (when known) by the server.
    var clientCPU: Double?
    var serverCPU: Double?

    var sorted: [Int] { tally.latenciesUs.sorted() }

    /// Server CPU time per request during the window, when the server's CPU use is known.
    var serverMicrosPerRequest: Double? {
        guard let serverCPU, requestsPerSecond > 0 else { return nil }
        return serverCPU * 1e6 / requestsPerSecond
    }

    func percentile(_ p: Double) -> Double {
        let s = sorted
        guard !s.isEmpty else { return 0 }
        return Double(s[min(s.count - 1, Int(Double(s.count) * p))]) / 1000
    }

    var requestsPerSecond: Double { Double(tally.requests) / seconds }
    var unitsPerSecond: Double { Double(tally.units) / seconds }

    var line: String {
        String(
            format:
                "%-9@ conns %3d  %9.0f req/s  %10.0f recipients/s  p50 %7.2f ms  p90 %7.2f ms  p99 %7.2f ms  errors %d",
            scenario as NSString,
            connections,
            requestsPerSecond,
            unitsPerSecond,
            percentile(0.5),
            percentile(0.9),
            percentile(0.99),
            tally.errors
        )
            + (clientCPU.map { String(format: "  cpu client %.2f", $0) } ?? "")
            + (serverCPU.map { String(format: " server %.2f", $0) } ?? "")
    }

    var json: String {
        String(
            format:
                #"{"scenario":"%@","connections":%d,"seconds":%.2f,"requests":%d,"requestsPerSecond":%.1f,"recipientsPerSecond":%.1f,"p50ms":%.3f,"p90ms":%.3f,"p99ms":%.3f,"errors":%d,"clientCPU":%.3f,"serverCPU":%.3f}"#,
            scenario as NSString,
            connections,
            seconds,
            tally.requests,
            requestsPerSecond,
            unitsPerSecond,
            percentile(0.5),
            percentile(0.9),
            percentile(0.99),
            tally.errors,
            clientCPU ?? -1,
            serverCPU ?? -1
        )
    }
}

extension Duration {
    var seconds: Double {
        let c = components
        return Double(c.seconds) + Double(c.attoseconds) / 1e18
    }
}

/// CPU seconds (user + system) a process has used, from /proc.
enum CPUTime {
    static let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))

    static func of(pid: Int32?) -> Double {
        let path = pid.map { "/proc/\($0)/stat" } ?? "/proc/self/stat"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8), let close = text.lastIndex(of: ")") else {
            return 0
        }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / ticks
    }
}
