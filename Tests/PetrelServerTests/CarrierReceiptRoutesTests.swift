import Foundation
import Logging
import PetrelCore
import PetrelDelivery
import PetrelStore
import Testing

@testable import PetrelServer

@Suite struct CarrierReceiptRoutesTests {
    /// The callback waited for the receipt processor without a deadline: a store that never answers (here, a
    /// processor that never runs its batches) held the provider's request and connection forever. It now answers
    /// false (503, send again) after `storeWaitMs`, and the late acknowledgement changes nothing.
    @Test func aStoreThatNeverAnswersDoesNotHoldTheCallback() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("petrel-carrier-\(UUID().uuidString)")
            .path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try SQLiteStore(directory: dir, secrets: try SecretBox(key: Array(repeating: 5, count: 32)))
        let processor = ReceiptProcessor(store: store, logger: Logger(label: "test"), clock: { 1_000_000 })
        var routes = CarrierReceiptRoutes(
            channels: [:],
            receipts: processor,
            logger: Logger(label: "test"),
            clock: { 1_000_000 }
        )
        routes.storeWaitMs = 200
        let receipt = CarrierReceipt(channel: "acme", carrierId: "P1", status: .delivered, atMs: 1)
        let started = ContinuousClock.now
        #expect(await routes.store([receipt, receipt]) == false)
        // Generous: the whole suite shares two cores; without the deadline this never returns at all.
        #expect(ContinuousClock.now - started < .seconds(60))
        await processor.flush()  // acknowledges both now: the answer was given once already

        // A processor that runs its batches answers in time.
        routes.storeWaitMs = 10_000
        let patient = routes
        let stored = Task { await patient.store([receipt]) }
        for _ in 0..<50 {
            try await Task.sleep(for: .milliseconds(10))
            await processor.flush()
        }
        #expect(await stored.value)
    }
}
