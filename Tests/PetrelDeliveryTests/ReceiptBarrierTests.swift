import Foundation
import Logging
import PetrelCore
import PetrelStore
import Testing

@testable import PetrelDelivery

@Suite struct ReceiptBarrierTests {
    /// A receipt that comes right after its `submit_sm_resp`, before a round recorded the message sent: the barrier
    /// records the reported outcome itself rather than waiting for a round (none runs here, so waiting would last
    /// the whole timeout and leave the message unrecorded), and the receipt then finds its message.
    @Test func aReceiptThatOvertakesItsRecordHasTheRecordWrittenAtOnce() async throws {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("petrel-barrier-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try SQLiteStore(directory: dir, secrets: try SecretBox(key: Array(repeating: 3, count: 32)))
        let channel = MessageRouterTests.HeldChannel("smsc")
        let d = Dispatcher(
            store: store,
            channels: [channel],
            router: MessageRouter(routes: [MessageRouter.Route(channels: ["smsc"])]),
            logger: Logger(label: "test"),
            clock: { 1_000_000 }
        )
        do {
            try await store.commit(WriteBatch(messages: [MessageRouterTests.msg(1, to: "6591234567")]))
            _ = try await d.round()
            #expect(channel.heldIds == [1])
            let record = SentRecord(
                id: 1,
                channel: "smsc",
                carrierMessageId: "A1B2",
                sentAtMs: 1_000_000,
                parts: [PartRecord(part: 1, total: 1, carrierId: "A1B2")]
            )
            channel.answerAll(.sent(record, nil))
            // Ids arrive normalised, as `ReceiptProcessor.submit` hands them on.
            let id = try #require(CarrierID.accepted("A1B2"))
            let receipt = CarrierReceipt(channel: "smsc", carrierId: id, status: .delivered, atMs: 1_000_050)
            let started = ContinuousClock.now
            await d.waitForRecords(of: [receipt], timeoutMs: 5_000)
            #expect(ContinuousClock.now - started < .seconds(4))
            #expect(try await store.message(id: 1, account: "a")?.status == .sent)
            let applied = try await store.applyReceipts([receipt])
            #expect(applied.matched == 1 && applied.orphaned == 0)
            #expect(try await store.message(id: 1, account: "a")?.status == .delivered)
            // Nothing left unrecorded: a later receipt does not wait at all.
            await d.waitForRecords(of: [receipt], timeoutMs: 5_000)
        } catch {
            try? await store.close()
            throw error
        }
        try await store.close()
    }
}
