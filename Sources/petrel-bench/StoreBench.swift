import Foundation
import PetrelCore
import PetrelDelivery
import PetrelServer
import PetrelStore

/// The store's dispatch path alone, single-threaded: accept, claim, record sent (with parts), apply receipts; then
/// the sandbox's hand-over both ways (claim, then record; or sent while claimed) and its scheduled receipts.
/// Prints microseconds per message for each step (`petrel-bench --scenarios store`).
enum StoreBench {
    static func run(messages: Int, server: String? = nil) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "petrel-storebench-\(UUID().uuidString)"
        ).path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var db: BenchDatabase?
        if let server { db = try await BenchDatabase.create(server: server) }
        let store = try await DataDirectory.openStore(
            path: dir,
            storeURL: db?.url,
            environment: ["PETREL_MASTER_KEY": String(repeating: "ab", count: 32)]
        )
        let ids = MessageIDGenerator()
        let now = PetrelServer.now()
        // Per message of the step: `count` is how many messages it handled (the claim and later steps also take
        // the singles).
        func time(
            _ name: String,
            count: @autoclosure () -> Int = messages,
            _ body: () async throws -> Void
        ) async rethrows {
            let start = ContinuousClock.now
            let cpu = processCPUSeconds()
            try await body()
            let n = Double(count())
            print(
                String(
                    format: "store %-16@ %7.1f µs per message (cpu %.1f µs)",
                    name as NSString,
                    (ContinuousClock.now - start).seconds * 1e6 / n,
                    (processCPUSeconds() - cpu) * 1e6 / n
                )
            )
        }
        try await time("accept") {
            for chunk in stride(from: 0, to: messages, by: 1000) {
                let batch = ids.next(min(1000, messages - chunk), nowMs: now).map {
                    Message(
                        id: $0,
                        account: "default",
                        to: Scenario.number(Int($0 & 0xFFFF)),
                        text: "Your order has shipped",
                        createdAtMs: now
                    )
                }
                try await store.commit(WriteBatch(messages: batch))
            }
        }
        // Requests with one message each, from 64 tasks at once (as 64 API connections would), each with its nonce.
        let singles = min(messages, 20_000)
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for w in 0..<64 {
                group.addTask {
                    for k in stride(from: w, to: singles, by: 64) {
                        let id = ids.next(1, nowMs: now)[0]
                        let m = Message(
                            id: id,
                            account: "default",
                            to: Scenario.number(k),
                            text: "Your code is 1234",
                            createdAtMs: now
                        )
                        try await store.commit(
                            WriteBatch(nonce: NonceRecord(hash: id, expiresAtMs: now + 900_000), messages: [m])
                        )
                    }
                }
            }
            try await group.waitForAll()
        }
        print(
            String(
                format: "store %-16@ %7.0f commits/s (64 concurrent)",
                "accept singles" as NSString,
                Double(singles) / (ContinuousClock.now - start).seconds
            )
        )
        try await store.putAccessKey(
            AccessKeyRecord(id: "bench", secret: "s", account: "default", name: "bench", createdAtMs: now)
        )
        let keyStart = ContinuousClock.now
        for _ in 0..<2000 { _ = try await store.accessKey(id: "bench") }
        print(
            String(
                format: "store %-16@ %7.1f µs per lookup",
                "access key" as NSString,
                (ContinuousClock.now - keyStart).seconds * 1e6 / 2000
            )
        )
        var claimed: [Message] = []
        try await time("claim", count: claimed.count) {
            while true {
                let c = try await store.claim(limit: 400, nowMs: now + 1, leaseMs: 60_000)
                if c.isEmpty { break }
                claimed += c
            }
        }
        try await time("record sent", count: claimed.count) {
            for chunk in stride(from: 0, to: claimed.count, by: 400) {
                var r = DispatchResults()
                r.sent = claimed[chunk..<min(chunk + 400, claimed.count)].map {
                    SentRecord(
                        id: $0.id,
                        channel: "sink",
                        carrierMessageId: String($0.id),
                        sentAtMs: now + 2,
                        parts: [PartRecord(part: 1, total: 1, carrierId: String($0.id))]
                    )
                }
                try await store.record(r)
            }
        }
        try await time("apply receipts", count: claimed.count) {
            for chunk in stride(from: 0, to: claimed.count, by: 400) {
                let receipts = claimed[chunk..<min(chunk + 400, claimed.count)].map {
                    CarrierReceipt(channel: "sink", carrierId: String($0.id), status: .delivered, atMs: now + 3)
                }
                _ = try await store.applyReceipts(receipts)
            }
        }
        // The sandbox: claim and record in two writes, or sent while claimed in one (what the dispatcher does).
        let sandbox = SandboxChannel()
        let handOver: @Sendable ([Message]) -> DispatchResults = { messages in
            var r = DispatchResults()
            for m in messages {
                guard case .sent(let record, let entry)? = sandbox.submitNow(m, nowMs: now + 4) else { continue }
                r.sent.append(record)
                if let entry { r.inbox.append(entry) }
            }
            return r
        }
        let sandboxed = min(messages, 50_000)
        for oneWrite in [false, true] {
            for chunk in stride(from: 0, to: sandboxed, by: 1000) {
                let batch = ids.next(min(1000, sandboxed - chunk), nowMs: now).map {
                    Message(
                        id: $0,
                        account: "default",
                        to: Scenario.number(Int($0 & 0xFFFF)),
                        text: "Your code is 1234",
                        createdAtMs: now
                    )
                }
                try await store.commit(WriteBatch(messages: batch))
            }
            try await time(oneWrite ? "sandbox 1 write" : "sandbox 2 writes", count: sandboxed) {
                while true {
                    if oneWrite {
                        let (c, sent) = try await store.claim(
                            limit: 400,
                            nowMs: now + 4,
                            leaseMs: 60_000,
                            sendNow: handOver
                        )
                        if c.isEmpty && sent == 0 { break }
                    } else {
                        let c = try await store.claim(limit: 400, nowMs: now + 4, leaseMs: 60_000)
                        if c.isEmpty { break }
                        try await store.record(handOver(c))
                    }
                }
            }
        }
        // Their scheduled receipts (both rounds' messages), as the dispatcher applies them: 400 per write.
        try await time("sandbox due receipts", count: 2 * sandboxed) {
            while try await store.applyDueReceipts(nowMs: .max, limit: 400).count > 0 {}
        }
        print("store counts \(try await store.counts())")
        try await store.close()
        await db?.drop()
    }
}

/// User plus system CPU time of this process so far.
func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}
