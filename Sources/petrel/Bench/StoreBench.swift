import Foundation
import PetrelCore
import PetrelServer
import PetrelStore

/// The store's dispatch path alone, single-threaded: accept, claim, record sent (with parts), apply receipts.
/// Prints microseconds per message for each step (`petrel bench --scenarios store`).
enum StoreBench {
    static func run(messages: Int) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("petrel-storebench-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try await DataDirectory.openStore(path: dir, environment: ["PETREL_MASTER_KEY": String(repeating: "ab", count: 32)])
        let ids = MessageIDGenerator()
        let now = PetrelServer.now()
        func time(_ name: String, _ body: () async throws -> Void) async rethrows {
            let start = ContinuousClock.now
            let cpu = processCPUSeconds()
            try await body()
            let n = Double(messages)
            print(String(
                format: "store %-16@ %7.1f µs per message (cpu %.1f µs)", name as NSString,
                (ContinuousClock.now - start).seconds * 1e6 / n, (processCPUSeconds() - cpu) * 1e6 / n))
        }
        try await time("accept") {
            for chunk in stride(from: 0, to: messages, by: 1000) {
                let batch = ids.next(min(1000, messages - chunk), nowMs: now).map {
                    Message(id: $0, account: "default", to: Scenario.number(Int($0 & 0xFFFF)), text: "Your order has shipped", createdAtMs: now)
                }
                try await store.commit(WriteBatch(messages: batch))
            }
        }
        var claimed: [Message] = []
        try await time("claim") {
            while true {
                let c = try await store.claim(limit: 400, nowMs: now + 1, leaseMs: 60_000)
                if c.isEmpty { break }
                claimed += c
            }
        }
        try await time("record sent") {
            for chunk in stride(from: 0, to: claimed.count, by: 400) {
                var r = DispatchResults()
                r.sent = claimed[chunk..<min(chunk + 400, claimed.count)].map {
                    SentRecord(id: $0.id, channel: "sink", carrierMessageId: String($0.id), sentAtMs: now + 2,
                               parts: [PartRecord(part: 1, total: 1, carrierId: String($0.id))])
                }
                try await store.record(r)
            }
        }
        try await time("apply receipts") {
            for chunk in stride(from: 0, to: claimed.count, by: 400) {
                let receipts = claimed[chunk..<min(chunk + 400, claimed.count)].map {
                    CarrierReceipt(channel: "sink", carrierId: String($0.id), status: .delivered, atMs: now + 3)
                }
                _ = try await store.applyReceipts(receipts)
            }
        }
        print("store counts \(try await store.counts())")
        try await store.close()
    }
}

/// User plus system CPU time of this process so far.
func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}
