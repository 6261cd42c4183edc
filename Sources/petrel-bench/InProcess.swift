import Foundation
import NIOHTTP1
import PetrelAPI
import PetrelCore
import PetrelServer
import PetrelStore

/// The RPC gateway called directly, without HTTP: isolates the cost of signature checks, validation and the
/// durable commit from the HTTP stack's.
enum InProcessBench {
    static func run(
        seconds: Double,
        concurrency: Int,
        batch: Int?,
        commitOnly: Bool = false
    ) async throws -> BenchResult {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("petrel-inproc-\(UUID().uuidString)")
            .path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try await DataDirectory.openStore(
            path: dir,
            environment: ["PETREL_MASTER_KEY": String(repeating: "ab", count: 32)]
        )
        try await store.putAccessKey(
            AccessKeyRecord(id: "ak", secret: "sk", account: "default", name: "bench", createdAtMs: 0)
        )
        let env = APIEnvironment(store: store, ids: MessageIDGenerator(), channels: { ["sandbox"] })
        let gateway = Gateway(
            env: env,
            nonces: NonceGuard(),
            throttle: Throttle(limits: [:]),
            clock: { PetrelServer.now() }
        )
        let target = BenchTarget(host: "127.0.0.1", port: 1, ak: "ak", sk: "sk")
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        let start = ContinuousClock.now
        let tallies = try await withThrowingTaskGroup(of: Tally.self) { group in
            for c in 0..<concurrency {
                group.addTask {
                    var tally = Tally()
                    var i = c * 1_000_003
                    while ContinuousClock.now < deadline {
                        i += 1
                        if commitOnly {
                            let sent = ContinuousClock.now
                            let m = Message(
                                id: env.ids.next(1, nowMs: PetrelServer.now())[0],
                                account: "default",
                                to: "85292012345",
                                text: "x",
                                createdAtMs: 0
                            )
                            let hash = NonceGuard.digest(accessKeyId: "ak", nonce: String(i))
                            try await store.commit(
                                WriteBatch(
                                    nonce: NonceRecord(hash: hash, expiresAtMs: PetrelServer.now()),
                                    messages: [m]
                                )
                            )
                            tally.record(ContinuousClock.now - sent, units: 1)
                            continue
                        }
                        let params: [(String, String)]
                        let action: String
                        if let n = batch {
                            action = "BatchSendMessageToGlobe"
                            let to = (0..<n).map { "\"\(Scenario.number(i * n + $0))\"" }.joined(separator: ",")
                            let texts = (0..<n).map { "\"Your order \(i)-\($0) has shipped\"" }.joined(separator: ",")
                            params = [("Message", "[\(texts)]"), ("To", "[\(to)]")]
                        } else {
                            action = "SendMessageToGlobe"
                            params = [("Message", "Your code is \(i)"), ("To", Scenario.number(i))]
                        }
                        let head = target.signedHead(action: action, params: params)
                        let query = String(head.uri.dropFirst(2))
                        let request = RPCRequest(
                            method: "POST",
                            query: query,
                            headers: head.headers.map { (name: $0.name, value: $0.value) }
                                .filter { $0.name != "Host" },
                            authority: target.authority
                        )
                        let sent = ContinuousClock.now
                        let r = await gateway.handle(request)
                        if r.status == 200 && r.code == "OK" {
                            tally.record(ContinuousClock.now - sent, units: batch ?? 1)
                        } else {
                            tally.errors += 1
                            if tally.errors == 1 { print(String(decoding: r.body, as: UTF8.self)) }
                        }
                    }
                    return tally
                }
            }
            var all = Tally()
            for try await t in group { all.merge(t) }
            return all
        }
        try await store.close()
        return BenchResult(
            scenario: batch == nil ? "gw-single" : "gw-batch",
            connections: concurrency,
            seconds: (ContinuousClock.now - start).seconds,
            tally: tallies
        )
    }
}
