import ArgumentParser
import Foundation
import NIOCore
import NIOHTTP1
import PetrelAPI
import PetrelCore
import PetrelStore

/// `petrel-bench`: drives signed API load at a server and reports throughput and latency.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "petrel-bench",
        abstract: "Benchmark the accept path with real signed requests (starts its own server unless --url is given).",
        discussion: """
            Scenarios: batch (BatchSendMessageToGlobe, 1,000 recipients per request), single (SendMessageToGlobe),
            baseline (GET /healthz: the bare HTTP ceiling of the same server, for ratios); presign writes --messages
            signed SendMessageToGlobe requests for the --url server to --out, for wrk (bench/wrk/presigned.lua).
            The server started by the bench (`petrel serve` of the petrel binary beside petrel-bench, or --petrel;
            a fresh one per scenario) uses a new data directory, durable commits (answered after the log is synced)
            and the sandbox carrier, which delivers everything it is given while the load runs (--no-delivery turns
            that off). Requests are signed before the timed window, each with its own nonce and a current date,
            so the window measures the gateway, not the client's signing; the client's and the server's CPU use
            during the window are printed beside the rates.
            """
    )

    @Option(
        help:
            "Scenarios, comma separated: batch, single, baseline; or presign (--messages requests to --out), counts (messages by status in --data-dir's store), e2e (API → SMPP → petrel smsc → receipt), receipts (pushes to a local receiver), http-channel (API → type: http channel → a local fake provider → its receipt callback), store, micro, gw-batch, gw-single (in process)."
    )
    var scenarios = "batch,single,baseline"
    @Option(help: "Seconds per scenario (after a 2 s warm-up).") var duration = 10.0
    @Option(help: "Concurrent connections for batch.") var batchConnections = 4
    @Option(help: "Concurrent connections for single and baseline.") var connections = 64
    @Option(help: "Recipients per batch request.") var recipients = 1000
    @Option(help: "Use a running server (http://HOST:PORT) instead of starting one.") var url: String?
    @Option(help: "Access key id for --url.") var accessKeyId: String?
    @Option(help: "Access key secret for --url.") var accessKeySecret: String?
    @Option(help: "Write the results as JSON to this file.") var json: String?
    @Option(help: "Process id of the --url server, to report its CPU use.") var serverPid: Int32?
    @Option(help: "Messages for the e2e scenario (and requests for presign).") var messages = 100_000
    @Option(help: "The file presign writes the signed requests to.") var out: String?
    @Option(help: "The data directory (SQLite store) the counts scenario reads.") var dataDir: String?
    @Option(help: "SMPP window for the e2e scenario.") var window = 100
    @Option(help: "How long petrel smsc waits before a receipt in the e2e scenario (0: at once, as many SMSCs do).")
    var receiptDelayMs = 100
    @Option(help: "Reports per POST for the receipts scenario.") var receiptBatch = 100
    @Option(help: "The HTTP channel's concurrency (connections to the provider) in the http-channel scenario.")
    var httpConcurrency = 16
    @Option(help: "e2e into an SMSC already running at HOST:PORT (e.g. the peers' smsc.py) instead of petrel smsc.")
    var sink: String?
    @Option(help: "Messages made delivered per second in the receipts scenario.") var receiptRate = 20_000
    @Flag(help: "Start the server as an accept-only node (dispatcher.enabled: false): measures acceptance alone.")
    var noDelivery = false
    @Option(
        help:
            "A PostgreSQL server (postgres://USER:PASS@HOST:PORT/DB, a role that may create databases): the started nodes share a fresh database on it instead of SQLite."
    )
    var store: String?
    @Option(help: "Nodes to start on the --store database (the load is spread over them).") var nodes = 1
    @Option(help: "The petrel binary to start servers and petrel smsc from (default: petrel beside petrel-bench).")
    var petrel: String?

    func run() async throws {
        let names = scenarios.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        if names == ["micro"] {
            MicroBench.run()
            return
        }
        if names == ["store"] {
            try await StoreBench.run(messages: messages, server: store)
            return
        }
        if names == ["receipts"] {
            print(try await ReceiptBench.run(messages: messages, batchSize: receiptBatch, rate: receiptRate))
            return
        }
        if names == ["counts"] {
            guard let dataDir else { throw CLIError(description: "counts needs --data-dir") }
            let counts = try SQLiteStore.statusCounts(directory: dataDir)
            print(MessageStatus.allCases.map { "\($0) \(counts[$0] ?? 0)" }.joined(separator: " "))
            return
        }
        if names == ["presign"] {
            guard let url, let ak = accessKeyId, let sk = accessKeySecret, let out else {
                throw CLIError(description: "presign needs --url, --access-key-id, --access-key-secret and --out")
            }
            try await Presign.run(target: try BenchTarget(url: url, ak: ak, sk: sk), messages: messages, out: out)
            return
        }
        guard nodes == 1 || store != nil else { throw CLIError(description: "--nodes needs --store") }
        if names == ["http-channel"] {
            print(
                try await HTTPChannelBench.run(
                    petrel: try PetrelBinary.resolve(petrel),
                    messages: messages,
                    concurrency: httpConcurrency,
                    connections: batchConnections
                )
            )
            return
        }
        if names == ["e2e"] {
            print(
                try await EndToEndBench.run(
                    petrel: try PetrelBinary.resolve(petrel),
                    messages: messages,
                    connections: batchConnections,
                    window: window,
                    receiptDelayMs: receiptDelayMs,
                    sink: sink,
                    store: store,
                    nodes: nodes
                )
            )
            return
        }
        if names.allSatisfy({ $0.hasPrefix("gw-") }) {
            for name in names {
                let before = CPUTime.of(pid: nil)
                var r = try await InProcessBench.run(
                    seconds: duration,
                    concurrency: name == "gw-batch" ? batchConnections : connections,
                    batch: name == "gw-batch" ? recipients : nil,
                    commitOnly: name == "gw-commit"
                )
                r.clientCPU = (CPUTime.of(pid: nil) - before) / r.seconds
                print(r.line)
            }
            return
        }
        var results: [BenchResult] = []
        for name in names {
            let scenario: Scenario
            switch name {
            case "batch": scenario = .batch(recipients: recipients, connections: batchConnections)
            case "single": scenario = .single(connections: connections)
            case "baseline": scenario = .baseline(connections: connections)
            case "sendsms": scenario = .sendSms(recipients: 1, connections: connections)
            case "sendsms-batch": scenario = .sendSms(recipients: recipients, connections: batchConnections)
            default: throw CLIError(description: "unknown scenario \(name)")
            }
            if let store {
                results += try await runShared(scenario, store: store)
                continue
            }
            // Each scenario gets a fresh server, so one scenario's delivery backlog does not slow the next.
            let target: BenchTarget
            var server: BenchServer?
            if let url {
                guard let ak = accessKeyId, let sk = accessKeySecret else {
                    throw CLIError(description: "--url needs --access-key-id and --access-key-secret")
                }
                target = try BenchTarget(url: url, ak: ak, sk: sk)
            } else {
                let s = try BenchServer.start(petrel: try PetrelBinary.resolve(petrel), delivery: !noDelivery)
                server = s
                target = s.target
            }
            defer { server?.stop() }
            _ = try await scenario.run(target, seconds: 2, prepare: false)  // warm-up
            let r = try await scenario.run(
                target,
                seconds: duration,
                prepare: true,
                serverPid: server?.process.processIdentifier ?? serverPid
            )
            let rss = server.map { String(format: "  rss %.0f MB", $0.residentMemoryMB()) } ?? ""
            print(r.line + rss)
            results.append(r)
        }
        // Issue 8's singles target is a ratio to the bare route measured in the same run.
        if let single = results.first(where: { $0.scenario == "single" }),
            let bare = results.first(where: { $0.scenario == "baseline" }),
            bare.requestsPerSecond > 0
        {
            print(
                String(
                    format:
                        "ratio    single / baseline %.2f (server CPU per request: single %.0f µs, baseline %.0f µs)",
                    single.requestsPerSecond / bare.requestsPerSecond,
                    single.serverMicrosPerRequest ?? 0,
                    bare.serverMicrosPerRequest ?? 0
                )
            )
        }
        if let json {
            let text = "[" + results.map(\.json).joined(separator: ",") + "]\n"
            try text.write(toFile: json, atomically: true, encoding: .utf8)
        }
        if results.contains(where: { $0.tally.errors > 0 }) { throw ExitCode(1) }
    }
}

extension Bench {
    /// One scenario against `nodes` fresh nodes on one fresh PostgreSQL database, the load spread evenly.
    func runShared(_ scenario: Scenario, store: String) async throws -> [BenchResult] {
        let binary = try PetrelBinary.resolve(petrel)
        let db = try await BenchDatabase.create(server: store)
        let servers = try (0..<nodes).map { _ in
            try BenchServer.start(petrel: binary, delivery: !noDelivery, environment: db.environment)
        }
        let duration = self.duration
        let connections = max(1, scenario.connections / nodes)
        let each = scenario.with(connections: connections)
        let results = try await withThrowingTaskGroup(of: BenchResult.self) { group in
            for s in servers {
                let target = s.target
                let pid = s.process.processIdentifier
                group.addTask {
                    _ = try await each.run(target, seconds: 2, prepare: false)
                    return try await each.run(target, seconds: duration, prepare: true, serverPid: pid)
                }
            }
            var all: [BenchResult] = []
            for try await r in group { all.append(r) }
            return all
        }
        // Nodes first: a database dropped under a running node fills its log with connection errors.
        for s in servers { s.stop() }
        await db.drop()
        for (i, r) in results.enumerated() { print("node \(i + 1)  " + r.line) }
        print(
            String(
                format: "%-9@ %d nodes on PostgreSQL: %.0f req/s  %.0f recipients/s in all",
                scenario.name as NSString,
                nodes,
                results.map(\.requestsPerSecond).reduce(0, +),
                results.map(\.unitsPerSecond).reduce(0, +)
            )
        )
        return results
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
    func signedHead(action: String, params: [(String, String)], version: String = "2018-05-01") -> HTTPRequestHead {
        var headers: [(name: String, value: String)] = [
            ("x-acs-action", action), ("x-acs-version", version), ("x-acs-date", AlibabaDateText.now()),
            ("x-acs-signature-nonce", RequestID.make()), ("x-acs-content-sha256", SignatureV3.payloadHash([])),
            ("accept", "application/json"),
        ]
        var query = ""
        for (i, (k, v)) in params.enumerated() {
            if i > 0 { query += "&" }
            query += k + "=" + FormEncoding.percentEncode(v)
        }
        let request = RPCRequest(method: "POST", query: query, headers: headers, authority: authority)
        headers.append(
            (
                "Authorization",
                SignatureV3.authorization(
                    request,
                    queryPairs: params,
                    signedHeaders: ["host"] + headers.map(\.name),
                    accessKeyId: ak,
                    secret: sk
                )
            )
        )
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/?" + query)
        head.headers.reserveCapacity(10)
        head.headers.add(name: "Host", value: authority)
        for h in headers { head.headers.add(name: h.name, value: h.value) }
        head.headers.add(name: "Content-Length", value: "0")
        return head
    }
}

enum AlibabaDateText {
    static func now() -> String { AlibabaDate.iso8601(seconds: Int64(Date().timeIntervalSince1970)) }
}
