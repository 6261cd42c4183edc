import Foundation
import PetrelCore
import PetrelStore

/// The stores the conformance suite runs against. PostgreSQL needs a server: `scripts/test.sh` starts one and
/// names it in PETREL_TEST_POSTGRES (a URL whose role may create databases); each test gets a database of its own.
enum StoreKind: String, CaseIterable, Sendable {
    case sqlite
    case postgres
}

struct NoPostgres: Error, CustomStringConvertible {
    var description: String { "PETREL_TEST_POSTGRES is not set: run scripts/test.sh, which starts a PostgreSQL server" }
}

func withStore<T>(_ kind: StoreKind, _ body: (any MessageStore, String) async throws -> T) async throws -> T {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("petrel-store-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let store: any MessageStore
    let secrets = try SecretBox(key: Array(repeating: 1, count: 32))
    var database: (server: String, name: String)?
    switch kind {
    case .sqlite: store = try SQLiteStore(directory: dir, secrets: secrets)
    case .postgres:
        guard let server = ProcessInfo.processInfo.environment["PETREL_TEST_POSTGRES"] else { throw NoPostgres() }
        let name = "petrel_test_\(UUID().uuidString.prefix(8).lowercased())"
        database = (server, name)
        let url = try await watched("creating database \(name)") {
            try await PostgresStore.createDatabase(url: server, name: name)
        }
        store = try await watched("opening the store on \(name)") {
            try await PostgresStore(url: url, secrets: secrets)
        }
    }
    do {
        let result = try await body(store, dir)
        try await watched("closing the store") { try await store.close() }
        // Clean-up is best effort (an autovacuum worker may hold the database for a moment).
        if let database { try? await PostgresStore.dropDatabase(url: database.server, name: database.name) }
        return result
    } catch {
        try? await store.close()
        if let database { try? await PostgresStore.dropDatabase(url: database.server, name: database.name) }
        throw error
    }
}

func message(
    _ id: Int64,
    to: String = "85291234567",
    type: MessageType = .notify,
    priority: Priority = .normal,
    account: String = "acme",
    createdAtMs: Int64 = 1000,
    expiresAtMs: Int64? = nil,
    notBeforeMs: Int64? = nil
) -> Message {
    Message(
        id: id,
        account: account,
        to: to,
        from: "Petrel",
        text: "text \(id)",
        type: type,
        taskId: "task",
        priority: priority,
        createdAtMs: createdAtMs,
        notBeforeMs: notBeforeMs,
        expiresAtMs: expiresAtMs
    )
}

/// Two stores on one fresh PostgreSQL database: two nodes, as two `petrel serve` processes would have them.
func withTwoNodes(
    trackedSends: Int = SQLiteStore.defaultTrackedSends,
    lockWait: Duration = .seconds(10),
    _ body: (PostgresStore, PostgresStore) async throws -> Void
) async throws {
    guard let server = ProcessInfo.processInfo.environment["PETREL_TEST_POSTGRES"] else { throw NoPostgres() }
    let name = "petrel_test_\(UUID().uuidString.prefix(8).lowercased())"
    let url = try await watched("creating database \(name)") {
        try await PostgresStore.createDatabase(url: server, name: name)
    }
    let secrets = try SecretBox(key: Array(repeating: 1, count: 32))
    // Both open (and migrate) at once: the advisory lock lets one migrate while the other waits.
    let (a, b) = try await watched("opening two nodes on \(name)") {
        async let first = PostgresStore(url: url, secrets: secrets, trackedSends: trackedSends, lockWait: lockWait)
        async let second = PostgresStore(url: url, secrets: secrets, trackedSends: trackedSends, lockWait: lockWait)
        return try await (first, second)
    }
    do {
        try await body(a, b)
    } catch {
        try? await a.close()
        try? await b.close()
        try? await PostgresStore.dropDatabase(url: server, name: name)
        throw error
    }
    try await watched("closing two nodes on \(name)") {
        try await a.close()
        try await b.close()
    }
    try? await PostgresStore.dropDatabase(url: server, name: name)
}

/// Runs `body`, saying on stderr (unbuffered, so it reaches CI's log even if the run never ends) when it has not
/// returned within `seconds`. Once, under heavy load, two PostgreSQL tests never finished with the process idle
/// (no sockets, no timers): this names the step that hangs if it happens again.
func watched<T: Sendable>(
    _ what: String,
    seconds: Int = 120,
    _ body: () async throws -> T
) async throws -> T {
    let watchdog = Task.detached {
        try await Task.sleep(for: .seconds(seconds))
        FileHandle.standardError.write(Data("test harness: \(what) has not returned after \(seconds) s\n".utf8))
    }
    defer { watchdog.cancel() }
    return try await body()
}
