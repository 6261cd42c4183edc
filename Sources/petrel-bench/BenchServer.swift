import Foundation
import PetrelCore
import PetrelStore

/// A `petrel serve` child process (of the binary `petrel`) on a fresh data directory, for benchmarks.
final class BenchServer {
    let process: Process
    let dataDir: String
    let target: BenchTarget

    private init(process: Process, dataDir: String, target: BenchTarget) {
        self.process = process
        self.dataDir = dataDir
        self.target = target
    }

    static func start(
        petrel: String,
        delivery: Bool = true,
        config: String? = nil,
        environment: [String: String] = [:]
    ) throws -> BenchServer {
        let dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("petrel-bench-\(UUID().uuidString)")
            .path
        let configPath = dataDir + ".yaml"
        try (config ?? "dispatcher:\n  enabled: \(delivery)\nlogLevel: warning\n").write(
            toFile: configPath,
            atomically: true,
            encoding: .utf8
        )
        let ak = "LTAIbench" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let sk = "bench-secret-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: petrel)
        process.arguments = ["serve", "--listen", "127.0.0.1:0", "--data-dir", dataDir, "--config", configPath]
        var env = ProcessInfo.processInfo.environment
        env["PETREL_ACCESS_KEY_ID"] = ak
        env["PETREL_ACCESS_KEY_SECRET"] = sk
        env["LOG_LEVEL"] = "warning"
        env.merge(environment) { _, new in new }
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
                return BenchServer(
                    process: process,
                    dataDir: dataDir,
                    target: BenchTarget(host: "127.0.0.1", port: port, ak: ak, sk: sk)
                )
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

/// A fresh PostgreSQL database per benchmark run, on the server `--store` names, shared by the run's nodes.
struct BenchDatabase {
    let server: String
    let name: String
    let url: String
    /// Every node of a run must open secrets with the same master key.
    static let masterKey = String(repeating: "be", count: 32)

    static func create(server: String) async throws -> BenchDatabase {
        let name = "petrel_bench_\(UInt32.random(in: 0...UInt32.max))"
        return BenchDatabase(
            server: server,
            name: name,
            url: try await PostgresStore.createDatabase(url: server, name: name)
        )
    }

    var environment: [String: String] { ["PETREL_STORE": url, "PETREL_MASTER_KEY": Self.masterKey] }

    func drop() async { try? await PostgresStore.dropDatabase(url: server, name: name) }

    /// The shared store, to watch message counts while the nodes work.
    func open() async throws -> PostgresStore {
        try await PostgresStore(
            url: url,
            secrets: try SecretBox.loadMasterKey(
                dataDir: NSTemporaryDirectory(),
                environment: ["PETREL_MASTER_KEY": Self.masterKey]
            ),
            maxConnections: 2
        )
    }
}
