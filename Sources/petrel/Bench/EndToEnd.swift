import Foundation
import NIOCore
import PetrelCore
import PetrelStore

/// `petrel bench --scenarios e2e`: BatchSendMessageToGlobe → SMPP (one bind, window 100) → `petrel smsc` →
/// delivery receipt → delivered. Counts a message when its status is delivered in the store.
enum EndToEndBench {
    static func run(messages: Int, connections: Int, window: Int, receiptDelayMs: Int, timeoutSeconds: Double = 120) async throws -> String {
        let smscPort = Int.random(in: 20_000..<40_000)
        let smsc = Process()
        smsc.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let summary = FileManager.default.temporaryDirectory.appendingPathComponent("petrel-e2e-smsc-\(smscPort).json").path
        smsc.arguments = ["smsc", "--listen", "127.0.0.1:\(smscPort)", "--system-id", "bench", "--password", "benchpw",
                          "--receipt-delay-ms", String(receiptDelayMs), "--summary", summary]
        smsc.standardOutput = FileHandle.nullDevice
        try smsc.run()
        defer {
            smsc.terminate()
            smsc.waitUntilExit()
        }
        try await Task.sleep(for: .milliseconds(500))
        let config = """
            logLevel: warning
            channels:
              - {id: sink, type: smpp, host: 127.0.0.1, port: \(smscPort), systemId: bench, password: benchpw, window: \(window), sessions: 1}
            routes:
              - {channels: [sink]}
            """
        let server = try BenchServer.start(config: config)
        defer { server.stop() }
        let target = server.target
        let per = 1000
        let requests = (messages + per - 1) / per
        let scenario = Scenario.batch(recipients: per, connections: connections)
        let prepared = (0..<requests).map { ByteBuffer(bytes: scenario.encode(target, $0 + 1)) }
        let source = RequestSource(prepared: prepared, limit: requests) { scenario.encode(target, $0 + 1) }
        let start = ContinuousClock.now
        let cpu0 = (CPUTime.of(pid: nil), CPUTime.of(pid: server.process.processIdentifier), CPUTime.of(pid: smsc.processIdentifier))
        let tally = try await LoadClient.run(
            host: target.host, port: target.port, connections: connections, seconds: 3600, units: per, source: source,
            check: { scenario.check($0, $1) })
        let accepted = (ContinuousClock.now - start).seconds
        let total = tally.units
        var delivered = 0
        while delivered < total {
            try await Task.sleep(for: .milliseconds(20))
            delivered = (try? SQLiteStore.statusCounts(directory: server.dataDir))?[.delivered] ?? delivered
            if (ContinuousClock.now - start).seconds > timeoutSeconds {
                let sink = (try? String(contentsOfFile: summary, encoding: .utf8)) ?? "?"
                print("bench: e2e gave up: \(delivered) of \(total) delivered; smsc \(sink)")
                break
            }
        }
        let elapsed = (ContinuousClock.now - start).seconds
        let cpu = (
            (CPUTime.of(pid: nil) - cpu0.0) / elapsed, (CPUTime.of(pid: server.process.processIdentifier) - cpu0.1) / elapsed,
            (CPUTime.of(pid: smsc.processIdentifier) - cpu0.2) / elapsed)
        return String(
            format: "e2e       %d messages  accepted in %.2f s (%.0f/s)  delivered in %.2f s: %.0f messages/s end to end  errors %d  cpu client %.2f server %.2f smsc %.2f  rss %.0f MB",
            total, accepted, Double(total) / accepted, elapsed, Double(delivered) / elapsed, tally.errors, cpu.0, cpu.1, cpu.2,
            server.residentMemoryMB())
    }
}
