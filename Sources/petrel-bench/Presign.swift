import Foundation
import NIOCore
import Synchronization

/// `petrel-bench --scenarios presign`: writes `messages` SendMessageToGlobe requests, signed as the official SDK signs
/// them (each its own nonce, the current date: valid for the server's 15-minute window), to a file, for load
/// generators that cannot sign (bench/wrk/presigned.lua). The requests are raw HTTP/1.1 one after another, each
/// ending with its blank line (no body: the parameters are in the query); each to a distinct number, each usable once.
enum Presign {
    static func run(target: BenchTarget, messages: Int, out: String) async throws {
        let scenario = Scenario.single(connections: 1)
        let base = Scenario.nextRequest.withLock { $0 }
        guard FileManager.default.createFile(atPath: out, contents: nil) else {
            throw CLIError(description: "cannot write \(out)")
        }
        let file = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        defer { try? file.close() }
        let chunk = 20_000
        var bytes = 0
        for start in stride(from: 0, to: messages, by: chunk) {
            let end = min(messages, start + chunk)
            // Signed on all cores, written in order.
            let parts = await withTaskGroup(of: (Int, [UInt8]).self) { group in
                let lanes = 8
                for lane in 0..<lanes {
                    group.addTask {
                        var data: [UInt8] = []
                        for i in stride(from: start + lane, to: end, by: lanes) {
                            data += scenario.encode(target, base + i)
                        }
                        return (lane, data)
                    }
                }
                var all: [(Int, [UInt8])] = []
                for await part in group { all.append(part) }
                return all
            }
            // Lanes interleave (request i in lane i % 8); the order in the file does not matter, each is distinct.
            for (_, data) in parts.sorted(by: { $0.0 < $1.0 }) {
                try file.write(contentsOf: data)
                bytes += data.count
            }
        }
        print(
            "presign: \(messages) signed SendMessageToGlobe requests for \(target.authority) in \(out) "
                + "(\(bytes / max(1, messages)) bytes each on average)"
        )
    }
}
