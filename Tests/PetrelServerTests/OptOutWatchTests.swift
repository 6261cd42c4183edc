import Foundation
import Logging
import PetrelCore
import PetrelStore
import Testing

@testable import PetrelServer

/// Two nodes' boards over one store: a node's own change, read after the other node's later one, must not undo it.
@Suite struct OptOutWatchTests {
    static let phone = "85291234567"

    @Test func aStopReadLateDoesNotUndoALaterStartFromAnotherNode() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("petrel-optout-\(UUID().uuidString)")
            .path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try SQLiteStore(directory: dir, secrets: try SecretBox(key: Array(repeating: 6, count: 32)))
        let a = OptOutBoard()
        // Node A stores a STOP (its console, or a customer's reply); node B then stores the phone's START.
        _ = try await store.optOut(account: "acme", phones: [Self.phone], source: "STOP", maxPhones: 10, nowMs: 1)
        _ = try await store.optIn(account: "acme", phones: [Self.phone], source: "START", nowMs: 2)
        // A's watch reads both before A gets to its own STOP.
        try await a.catchUp(from: store)
        #expect(!a.contains(account: "acme", phone: Self.phone))
        // A applies its STOP now: the store's order wins, the phone stays off.
        try await a.catchUp(from: store)
        a.apply(read: [(OptOutCursor(version: 1, account: "acme", phone: Self.phone), true)])
        #expect(!a.contains(account: "acme", phone: Self.phone) && a.count == 0)
        // A later change is applied, and a reload starts where it read to.
        _ = try await store.optOut(account: "acme", phones: [Self.phone], source: "STOP", maxPhones: 10, nowMs: 3)
        try await a.catchUp(from: store)
        #expect(a.contains(account: "acme", phone: Self.phone) && a.read.version == 3)
        let watch = OptOutWatch(store: store, board: OptOutBoard(), logger: .init(label: "test"), clock: { 0 })
        try await watch.reload()
        #expect(watch.board.read == a.read && watch.board.count == 1)
        try await store.close()
    }
}
