import Foundation
import Logging
import PetrelCore
import PetrelStore
import Synchronization
import Testing

@testable import PetrelDelivery

@Suite struct ReceiptProcessorTests {
    /// Issue 20 F10: a receipt id of 60,000 zeros reached the store's writer and was normalised there. Ids over
    /// 64 bytes are now refused before the store: acknowledged at once (so the SMSC stops resending) and dropped.
    @Test func idsOverSixtyFourBytesAreAcknowledgedAndDropped() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("petrel-receipts-\(UUID().uuidString)")
            .path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try SQLiteStore(directory: dir, secrets: try SecretBox(key: Array(repeating: 3, count: 32)))
        let processor = ReceiptProcessor(store: store, logger: Logger(label: "test"), clock: { 1_000_000 })
        let acks = Mutex<[Bool]>([])
        for id in [String(repeating: "0", count: 60_000), String(repeating: "7", count: 65)] {
            processor.submit(CarrierReceipt(channel: "c", carrierId: id, status: .delivered, atMs: 1)) { ok in
                acks.withLock { $0.append(ok) }
            }
        }
        #expect(acks.withLock { $0 } == [true, true])  // answered without waiting for a batch
        #expect(processor.stats.dropped == 2)
        processor.submit(
            CarrierReceipt(
                channel: "c",
                carrierId: " 000" + String(repeating: "7", count: 60),
                status: .delivered,
                atMs: 1
            )
        ) { ok in
            acks.withLock { $0.append(ok) }
        }
        await processor.flush()
        #expect(acks.withLock { $0 } == [true, true, true])
        #expect(processor.stats.orphaned == 1 && processor.stats.dropped == 2)
        try await store.close()
    }
}
