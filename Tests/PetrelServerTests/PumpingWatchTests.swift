import Foundation
import Logging
import PetrelCore
import PetrelStore
import Synchronization
import Testing

@testable import PetrelServer

@Suite struct PumpingWatchTests {
    static let t0: Int64 = 1_800_000_000_000
    static let guardHK = PumpingGuard(type: .otp, windowMs: 3_600_000, minSent: 3, minConversionRate: 0.5)

    func count(_ account: String, _ country: String, sent: Int, converted: Int, from: Int64? = nil) -> PumpingCount {
        PumpingCount(
            account: account,
            country: country,
            type: .otp,
            sent: sent,
            converted: converted,
            countedFromMs: from
        )
    }

    @Test func theDecisionHaltsTheAccountsItsGuardCoversBelowTheRate() {
        let own = PumpingGuard(type: .otp, windowMs: 600_000, minSent: 1)
        let limits: (String) -> SendLimits? = { account in
            switch account {
            case "acme", "busy": return SendLimits(pumpingGuard: Self.guardHK)
            case "own": return SendLimits(pumpingGuard: own)
            default: return nil
            }
        }
        let halts = PumpingDecision.halts(
            [
                count("acme", "HK", sent: 4, converted: 1, from: 7),
                count("acme", "SG", sent: 2, converted: 0),
                count("busy", "HK", sent: 10, converted: 5),
                // Another guard's account (summed over its own window by its own entry), and one without a guard.
                count("own", "HK", sent: 50, converted: 0),
                count("gone", "HK", sent: 50, converted: 0),
            ],
            guarding: Self.guardHK,
            nowMs: Self.t0,
            limits: limits
        )
        #expect(halts.count == 1)
        let (halt, from) = halts[0]
        #expect(
            halt == PumpingHalt(account: "acme", country: "HK", type: .otp, haltedAtMs: Self.t0, sent: 4, converted: 1)
        )
        #expect(from == 7)
        let warning = PumpingDecision.warning(halt, Self.guardHK)
        #expect(warning.contains("halted account acme's OTP messages to HK: 4 sent within 3600s, 1 reported converted"))
        #expect(
            warning.contains("(rate 0.25, below 0.5)")
                && warning.contains("petrel limits lift --account acme --country HK")
        )
    }

    @Test func theWatchHaltsOnceAndTheBoardFollowsTheStore() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("petrel-watch-\(UUID().uuidString)")
            .path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try SQLiteStore(directory: dir, secrets: try SecretBox(key: Array(repeating: 4, count: 32)))
        let limits = SendLimits(pumpingGuard: Self.guardHK)
        for i in Int64(1)...3 {
            let m = Message(
                id: i,
                account: "acme",
                to: "8529123456\(i)",
                from: "Petrel",
                text: "code",
                type: .otp,
                taskId: "",
                priority: .urgent,
                createdAtMs: Self.t0 + i
            )
            _ = try await store.commit(WriteBatch(messages: [m]), limits: limits)
        }
        let board = PumpingHaltBoard()
        let watch = PumpingWatch(
            store: store,
            board: board,
            guards: { [Self.guardHK] },
            limits: { _ in limits },
            logger: Logger(label: "test"),
            clock: { Self.t0 + 1000 }
        )
        await watch.evaluate(nowMs: Self.t0 + 1000)
        let halt = try #require(board.halt(account: "acme", country: "HK", type: .otp))
        #expect(halt.sent == 3 && halt.converted == 0)
        #expect(try await store.pumpingHalts(account: nil) == [halt])
        // Again: the pair is halted, nothing more is made.
        await watch.evaluate(nowMs: Self.t0 + 2000)
        #expect(try await store.pumpingHalts(account: nil).map(\.haltedAtMs) == [Self.t0 + 1000])
        _ = try await store.liftPumpingHalts(account: "acme", country: "HK", nowMs: Self.t0 + 3000)
        await watch.evaluate(nowMs: Self.t0 + 4000)
        #expect(try await store.pumpingHalts(account: nil).isEmpty)
        try await store.close()
    }
    /// A guard a reload adds to a server started without one is watched: the watch runs whatever the config.
    @Test func aGuardAddedAfterStartIsWatched() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("petrel-watch-\(UUID().uuidString)")
            .path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try SQLiteStore(directory: dir, secrets: try SecretBox(key: Array(repeating: 4, count: 32)))
        let limits = SendLimits(pumpingGuard: Self.guardHK)
        for i in Int64(1)...3 {
            let m = Message(
                id: i,
                account: "acme",
                to: "8529123456\(i)",
                from: "Petrel",
                text: "code",
                type: .otp,
                taskId: "",
                priority: .urgent,
                createdAtMs: Self.t0 + i
            )
            _ = try await store.commit(WriteBatch(messages: [m]), limits: limits)
        }
        let guards = Mutex<[PumpingGuard]>([])
        let board = PumpingHaltBoard()
        let watch = PumpingWatch(
            store: store,
            board: board,
            guards: { guards.withLock { $0 } },
            limits: { _ in limits },
            logger: Logger(label: "test"),
            clock: { Self.t0 + 1000 },
            everyMs: 10,
            refreshMs: 10
        )
        let running = Task { try await watch.run() }
        try await Task.sleep(for: .milliseconds(100))
        #expect(try await store.pumpingHalts(account: nil).isEmpty)
        guards.withLock { $0 = [Self.guardHK] }
        var halted = false
        for _ in 0..<200 where !halted {
            try await Task.sleep(for: .milliseconds(20))
            halted = board.halt(account: "acme", country: "HK", type: .otp) != nil
        }
        #expect(halted)
        running.cancel()
        _ = await running.result
        try await store.close()
    }
}
