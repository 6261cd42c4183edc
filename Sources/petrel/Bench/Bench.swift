import ArgumentParser
import Foundation
import NIOCore
import NIOHTTP1
import PetrelAPI
import PetrelCore

/// `petrel bench`: drives signed API load at a server and reports throughput and latency.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmark the accept path with real signed requests (starts its own server unless --url is given).",
        discussion: """
            Scenarios: batch (BatchSendMessageToGlobe, 1,000 recipients per request), single (SendMessageToGlobe),
            baseline (GET /healthz: the bare HTTP ceiling of the same server, for ratios). The server started by
            the bench uses a fresh data directory, durable commits (synchronous=FULL) and the sandbox carrier,
            which delivers everything it is given while the load runs.
            """)

    @Option(help: "Scenarios to run, comma separated: batch, single, baseline.") var scenarios = "batch,single,baseline"
    @Option(help: "Seconds per scenario (after a 2 s warm-up).") var duration = 10.0
    @Option(help: "Concurrent connections for batch.") var batchConnections = 4
    @Option(help: "Concurrent connections for single and baseline.") var connections = 64
    @Option(help: "Recipients per batch request.") var recipients = 1000
    @Option(help: "Use a running server (http://HOST:PORT) instead of starting one.") var url: String?
    @Option(help: "Access key id for --url.") var accessKeyId: String?
    @Option(help: "Access key secret for --url.") var accessKeySecret: String?
    @Option(help: "Write the results as JSON to this file.") var json: String?

    func run() async throws {
        var target: BenchTarget
        var server: BenchServer?
        if let url {
            guard let ak = accessKeyId, let sk = accessKeySecret else {
                throw CLIError(description: "--url needs --access-key-id and --access-key-secret")
            }
            target = try BenchTarget(url: url, ak: ak, sk: sk)
        } else {
            let s = try BenchServer.start()
            server = s
            target = s.target
            print("bench: started petrel serve on port \(target.port), data in \(s.dataDir)")
        }
        defer { server?.stop() }

        var results: [BenchResult] = []
        for name in scenarios.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            let scenario: Scenario
            switch name {
            case "batch": scenario = .batch(recipients: recipients, connections: batchConnections)
            case "single": scenario = .single(connections: connections)
            case "baseline": scenario = .baseline(connections: connections)
            default: throw CLIError(description: "unknown scenario \(name)")
            }
            _ = try await scenario.run(target, seconds: 2)            // warm-up
            let r = try await scenario.run(target, seconds: duration)
            print(r.line)
            results.append(r)
        }
        if let s = server {
            let rss = s.residentMemoryMB()
            print(String(format: "bench: server RSS after the run: %.0f MB", rss))
        }
        if let json {
            let text = "[" + results.map(\.json).joined(separator: ",") + "]\n"
            try text.write(toFile: json, atomically: true, encoding: .utf8)
        }
        if results.contains(where: { $0.tally.errors > 0 }) { throw ExitCode(1) }
    }
}

struct BenchTarget: Sendable {
    let host: String
    let port: Int
    let ak: String
    let sk: String

    init(host: String, port: Int, ak: String, sk: String) {
        self.host = host
        self.port = port
        self.ak = ak
        self.sk = sk
    }

    init(url: String, ak: String, sk: String) throws {
        guard let u = URL(string: url), let host = u.host, let port = u.port else {
            throw CLIError(description: "--url must look like http://127.0.0.1:8080")
        }
        self.init(host: host, port: port, ak: ak, sk: sk)
    }

    var authority: String { "\(host):\(port)" }

    /// A POST with the parameters in the query and a V3 signature, as the official SDK sends it.
    func signedHead(action: String, params: [(String, String)]) -> HTTPRequestHead {
        let nonce = UInt64.random(in: 0...UInt64.max)
        let date = AlibabaDateText.now()
        var headers: [(name: String, value: String)] = [
            ("x-acs-action", action), ("x-acs-version", "2018-05-01"), ("x-acs-date", date),
            ("x-acs-signature-nonce", String(nonce, radix: 16) + String(UInt64.random(in: 0...UInt64.max), radix: 16)),
            ("x-acs-content-sha256", SignatureV3.payloadHash([])), ("accept", "application/json"),
        ]
        let query = params.map { "\($0.0)=\(FormEncoding.percentEncode($0.1))" }.joined(separator: "&")
        let request = RPCRequest(method: "POST", query: query, headers: headers, authority: authority)
        let names = (["host"] + headers.map(\.name)).sorted()
        let canonical = SignatureV3.canonicalRequest(
            request, queryPairs: params, signedHeaders: names, payloadHash: SignatureV3.payloadHash([]))
        let signature = SignatureV3.signature(stringToSign: SignatureV3.stringToSign(canonicalRequest: canonical), secret: sk)
        headers.append(("Authorization", "ACS3-HMAC-SHA256 Credential=\(ak),SignedHeaders=\(names.joined(separator: ";")),Signature=\(signature)"))
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/?" + query)
        head.headers.add(name: "Host", value: authority)
        for h in headers { head.headers.add(name: h.name, value: h.value) }
        head.headers.add(name: "Content-Length", value: "0")
        return head
    }
}

enum AlibabaDateText {
    static func now() -> String { AlibabaDate.iso8601(seconds: Int64(Date().timeIntervalSince1970)) }
}
