import Foundation
import PetrelCore
import PetrelStore

/// The stores the conformance suite runs against. PostgreSQL joins when its issue lands.
enum StoreKind: String, CaseIterable, Sendable {
    case sqlite
}


func withStore<T>(_ kind: StoreKind, _ body: (any MessageStore, String) async throws -> T) async throws -> T {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("petrel-store-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let store: any MessageStore
    switch kind {
    case .sqlite: store = try SQLiteStore(directory: dir, secrets: try SecretBox(key: Array(repeating: 1, count: 32)))
    }
    do {
        let result = try await body(store, dir)
        try await store.close()
        return result
    } catch {
        try? await store.close()
        throw error
    }
}

func message(_ id: Int64, to: String = "85291234567", type: MessageType = .notify, priority: Priority = .normal,
             account: String = "acme", createdAtMs: Int64 = 1000, expiresAtMs: Int64? = nil, notBeforeMs: Int64? = nil) -> Message {
    Message(
        id: id, account: account, to: to, from: "Petrel", text: "text \(id)", type: type, taskId: "task", priority: priority,
        createdAtMs: createdAtMs, notBeforeMs: notBeforeMs, expiresAtMs: expiresAtMs)
}
