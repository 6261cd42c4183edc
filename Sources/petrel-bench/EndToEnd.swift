import Foundation
import NIOCore
import PetrelCore
import PetrelStore

/// `petrel-bench --scenarios e2e`: BatchSendMessageToGlobe → SMPP (one bind, window 100) → `petrel smsc` →
/// delivery receipt → delivered. Counts a message when its status is delivered in the store.
enum EndToEndBench {
    /// `sink`: HOST:PORT of an SMSC already running (the peers' `smsc.py`, for runs beside Kannel and Jasmin);
    /// nil starts `petrel smsc` (of the binary `petrel`).
    static func run(
        petrel: String,
        messages: Int,
        connections: Int,
        window: Int,
        receiptDelayMs: Int,
        sink: String? = nil,
        store: String? = nil,
        nodes: Int = 1,
        timeoutSeconds: Double = 120
    ) async throws -> String {
        var smscHost = "127.0.0.1"
        var smscPort = Int.random(in: 20_000..<40_000)
        if let sink {
            guard let colon = sink.lastIndex(of: ":"), let port = Int(sink[sink.index(after: colon)...]) else {
                throw CLIError(description: "--sink must be HOST:PORT")
            }
            smscHost = String(sink[..<colon])
            smscPort = port
        }
        let smsc = Process()
        smsc.executableURL = URL(fileURLWithPath: petrel)
        let summary = FileManager.default.temporaryDirectory.appendingPathComponent("petrel-e2e-smsc-\(smscPort).json")
            .path
        smsc.arguments = [
            "smsc", "--listen", "127.0.0.1:\(smscPort)", "--system-id", "bench", "--password", "benchpw",
            "--receipt-delay-ms", String(receiptDelayMs), "--summary", summary,
        ]
        smsc.standardOutput = FileHandle.nullDevice
        if sink == nil { try smsc.run() }
        defer {
            if sink == nil {
                smsc.terminate()
                smsc.waitUntilExit()
            }
        }
        try await Task.sleep(for: .milliseconds(500))
        let config = """
            logLevel: warning
            channels:
              - {id: sink, type: smpp, host: \(smscHost), port: \(smscPort), systemId: bench, password: benchpw, window: \(window), sessions: 1}
            routes:
              - {channels: [sink]}
            """
        // One node on SQLite, or `nodes` nodes on a fresh PostgreSQL database, each with its own bind.
        var db: BenchDatabase?
        if let store { db = try await BenchDatabase.create(server: store) }
        let servers = try (0..<(db == nil ? 1 : nodes)).map { _ in
            try BenchServer.start(petrel: petrel, config: config, environment: db?.environment ?? [:])
        }
        let shared = try await db?.open()
        defer {
            for s in servers { s.stop() }
        }
        let server = servers[0]
        let per = 1000
        let requests = (messages + per - 1) / per
        let scenario = Scenario.batch(recipients: per, connections: max(1, connections / servers.count))
        let start = ContinuousClock.now
        let cpu0 = (
            CPUTime.of(pid: nil), CPUTime.of(pid: server.process.processIdentifier),
            sink == nil ? CPUTime.of(pid: smsc.processIdentifier) : 0
        )
        // The requests are dealt out over the nodes; each node's share goes through its own connections.
        let tallies = try await withThrowingTaskGroup(of: Tally.self) { group in
            for (k, s) in servers.enumerated() {
                let target = s.target
                let mine = Array(stride(from: k, to: requests, by: servers.count))
                let prepared = mine.map { ByteBuffer(bytes: scenario.encode(target, $0 + 1)) }
                let source = RequestSource(prepared: prepared, limit: mine.count) {
                    scenario.encode(target, mine[min($0, mine.count - 1)] + 1)
                }
                group.addTask {
                    try await LoadClient.run(
                        host: target.host,
                        port: target.port,
                        connections: scenario.connections,
                        seconds: 3600,
                        units: per,
                        source: source,
                        check: { [expected = scenario.expected] in Scenario.check($0, $1, expected: expected) }
                    )
                }
            }
            var all: [Tally] = []
            for try await t in group { all.append(t) }
            return all
        }
        let accepted = (ContinuousClock.now - start).seconds
        let total = tallies.map(\.units).reduce(0, +)
        var delivered = 0
        while delivered < total {
            try await Task.sleep(for: .milliseconds(shared == nil ? 20 : 200))
            if let shared {
                delivered = (try? await shared.counts())?[.delivered] ?? delivered
            } else {
                delivered = (try? SQLiteStore.statusCounts(directory: server.dataDir))?[.delivered] ?? delivered
            }
            if (ContinuousClock.now - start).seconds > timeoutSeconds {
                let sink = (try? String(contentsOfFile: summary, encoding: .utf8)) ?? "?"
                print("bench: e2e gave up: \(delivered) of \(total) delivered; smsc \(sink)")
                break
            }
        }
        let elapsed = (ContinuousClock.now - start).seconds
        let cpu = (
            (CPUTime.of(pid: nil) - cpu0.0) / elapsed,
            (CPUTime.of(pid: server.process.processIdentifier) - cpu0.1) / elapsed,
            sink == nil ? (CPUTime.of(pid: smsc.processIdentifier) - cpu0.2) / elapsed : 0
        )
        let rss = server.residentMemoryMB()
        try? await shared?.close()
        for s in servers { s.stop() }
        await db?.drop()
        return String(
            format:
                "e2e       %d messages  accepted in %.2f s (%.0f/s)  delivered in %.2f s: %.0f messages/s end to end  errors %d  cpu client %.2f server %.2f smsc %.2f  rss %.0f MB",
            total,
            accepted,
            Double(total) / accepted,
            elapsed,
            Double(delivered) / elapsed,
            tallies.map(\.errors).reduce(0, +),
            cpu.0,
            cpu.1,
            cpu.2,
            rss
        )
            + (db == nil
                ? "" : "  (\(servers.count) node\(servers.count == 1 ? "" : "s") on PostgreSQL; cpu and rss of node 1)")
    }
}
