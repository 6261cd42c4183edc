import Foundation

/// A `petrel serve` child process on a fresh data directory, for benchmarks.
final class BenchServer {
    let process: Process
    let dataDir: String
    let target: BenchTarget

    private init(process: Process, dataDir: String, target: BenchTarget) {
        self.process = process
        self.dataDir = dataDir
        self.target = target
    }

    static func start(delivery: Bool = true, config: String? = nil) throws -> BenchServer {
        let dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("petrel-bench-\(UUID().uuidString)").path
        let configPath = dataDir + ".yaml"
        try (config ?? "dispatcher:\n  enabled: \(delivery)\nlogLevel: warning\n").write(toFile: configPath, atomically: true, encoding: .utf8)
        let ak = "LTAIbench" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let sk = "bench-secret-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = ["serve", "--listen", "127.0.0.1:0", "--data-dir", dataDir, "--config", configPath]
        var env = ProcessInfo.processInfo.environment
        env["PETREL_ACCESS_KEY_ID"] = ak
        env["PETREL_ACCESS_KEY_SECRET"] = sk
        env["LOG_LEVEL"] = "warning"
        process.environment = env
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let handle = pipe.fileHandleForReading
        var buffer = ""
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let data = handle.availableData
            if data.isEmpty { break }
            buffer += String(decoding: data, as: UTF8.self)
            if let line = buffer.split(separator: "\n").first(where: { $0.hasPrefix("Petrel listening on http://") }),
                let portText = line.split(separator: " ")[3].split(separator: ":").last, let port = Int(portText)
            {
                // Keep the pipe drained in the background.
                handle.readabilityHandler = { h in _ = h.availableData }
                return BenchServer(process: process, dataDir: dataDir, target: BenchTarget(host: "127.0.0.1", port: port, ak: ak, sk: sk))
            }
        }
        process.terminate()
        throw CLIError(description: "petrel serve did not start: \(buffer)")
    }

    func residentMemoryMB() -> Double {
        guard let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kb = Double(line.split(separator: " ").dropFirst().first ?? "")
        else { return 0 }
        return kb / 1024
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: dataDir)
        try? FileManager.default.removeItem(atPath: dataDir + ".yaml")
    }
}
