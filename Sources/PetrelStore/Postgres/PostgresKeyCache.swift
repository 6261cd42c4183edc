import Logging
import PetrelCore
import PostgresNIO
import Synchronization

/// Access keys in memory on a node sharing PostgreSQL. Every key change (on any node, or by `petrel keys`)
/// sends `NOTIFY petrel_keys` in its transaction; each node listens on a connection of its own and forgets its
/// keys when told, so a change is honoured everywhere within the notification's round trip. While the listener
/// is not connected, nothing is cached and every lookup reads the database. Sign and template changes announce
/// themselves on the same channel, and the templates and sign uses the send path reads (`CatalogMemory`) are
/// forgotten with the keys.
final class PostgresKeyCache: Sendable {
    static let channel = "petrel_keys"

    private struct State {
        var listening = false
        var generation = 0
        var keys: [ByteKey: AccessKeyRecord?] = [:]
        var catalog = CatalogMemory()
    }

    private let state = Mutex(State())
    private let maxEntries = 10_000

    /// The cached answer for `id` (which may be "no such key"), or nil when the database must be asked; with the
    /// generation to hand back to `store`.
    func lookup(_ id: String) -> (AccessKeyRecord??, generation: Int) {
        state.withLock { s in (s.listening ? s.keys[ByteKey(id)] : nil, s.generation) }
    }

    /// Remembers a key read at `generation`, unless a change was announced since.
    func store(_ id: String, _ key: AccessKeyRecord?, generation: Int) {
        guard isPlainIdentifier(id) else { return }  // never remembered, not even as "no such key"
        state.withLock { s in
            guard s.listening, s.generation == generation else { return }
            if s.keys.count >= maxEntries { s.keys.removeAll() }
            s.keys[ByteKey(id)] = .some(key)
        }
    }

    func template(_ name: CatalogMemory.Name) -> (TemplateRecord??, generation: Int) {
        state.withLock { s in (s.listening ? s.catalog.template(name) : nil, s.generation) }
    }

    func store(_ name: CatalogMemory.Name, template: TemplateRecord?, generation: Int) {
        state.withLock { s in
            guard s.listening, s.generation == generation else { return }
            s.catalog.remember(name, template: template)
        }
    }

    func signUse(_ name: CatalogMemory.Name) -> (SignUse?, generation: Int) {
        state.withLock { s in (s.listening ? s.catalog.signUse(name) : nil, s.generation) }
    }

    func store(_ name: CatalogMemory.Name, signUse: SignUse, generation: Int) {
        state.withLock { s in
            guard s.listening, s.generation == generation else { return }
            s.catalog.remember(name, signUse: signUse)
        }
    }

    func invalidate(listening: Bool? = nil) {
        state.withLock { s in
            s.keys.removeAll()
            s.catalog.removeAll()
            s.generation += 1
            if let listening { s.listening = listening }
        }
    }

    /// Listens until cancelled, reconnecting after a pause when the connection is lost.
    func listen(client: PostgresClient, logger: Logger) async {
        while !Task.isCancelled {
            do {
                try await client.withConnection { c in
                    try await c.listen(on: Self.channel) { notifications in
                        invalidate(listening: true)
                        for try await _ in notifications { invalidate() }
                    }
                }
            } catch {
                if !Task.isCancelled {
                    logger.warning(
                        "key change notifications lost; reading keys from the database",
                        metadata: ["error": "\(error)"]
                    )
                }
            }
            invalidate(listening: false)
            try? await Task.sleep(for: .seconds(1))
        }
    }
}
