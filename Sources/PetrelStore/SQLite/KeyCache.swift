import Foundation
import PetrelCore
import Synchronization

/// Access keys in memory, checked on every request against a stamp that every key change rewrites. The stamp is
/// the first 8 bytes of `keys.stamp`, mapped shared into every process that opens the data directory: a
/// `petrel keys` command in another process writes a new value into the same page the server reads, so the change
/// takes effect on the server's next request, at the cost of one memory read (no system call, no database read,
/// no decryption). Templates and sign uses (`CatalogMemory`) are kept the same way and forgotten with the keys.
final class KeyCache: Sendable {
    private struct State {
        var stamp: UInt64?
        var keys: [ByteKey: AccessKeyRecord?] = [:]
        var catalog = CatalogMemory()

        /// Forgets everything when the shared stamp moved since the last look.
        mutating func follow(_ current: UInt64) {
            guard stamp != current else { return }
            keys.removeAll()
            catalog.removeAll()
            stamp = current
        }
    }

    /// The mapped stamp; nil if the file could not be mapped, and then every lookup goes to the database.
    private nonisolated(unsafe) let stamp: UnsafeMutableRawPointer?
    private let state = Mutex(State())
    private let maxEntries = 10_000

    init(directory: String) {
        stamp = Self.map((directory as NSString).appendingPathComponent("keys.stamp"))
    }

    deinit {
        if let stamp { munmap(stamp, 8) }
    }

    private static func map(_ path: String) -> UnsafeMutableRawPointer? {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_size >= 8 || ftruncate(fd, 8) == 0 else { return nil }
        let p = mmap(nil, 8, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
        guard let p, p != MAP_FAILED else { return nil }
        return p
    }

    private var current: UInt64? { stamp?.load(as: UInt64.self) }

    /// The cached answer for `id` (which may be "no such key"), or nil when the database must be asked; with the
    /// stamp to hand back to `store`.
    func lookup(_ id: String) -> (AccessKeyRecord??, stamp: UInt64?) {
        guard let current else { return (nil, nil) }
        return state.withLock { s in
            s.follow(current)
            return (s.keys[ByteKey(id)], current)
        }
    }

    /// Remembers a key read after `lookup` gave `stamp`, unless a change was made since (in this process or
    /// another): a read that started before a change committed may have seen the row as it was.
    func store(_ id: String, _ key: AccessKeyRecord?, stamp: UInt64?) {
        // An id that cannot exist is never remembered, not even as "no such key".
        guard isPlainIdentifier(id) else { return }
        remember(stamp) { s in
            if s.keys.count >= maxEntries { s.keys.removeAll() }
            s.keys[ByteKey(id)] = .some(key)
        }
    }

    func template(_ name: CatalogMemory.Name) -> (TemplateRecord??, stamp: UInt64?) {
        guard let current else { return (nil, nil) }
        return state.withLock { s in
            s.follow(current)
            return (s.catalog.template(name), current)
        }
    }

    func store(_ name: CatalogMemory.Name, template: TemplateRecord?, stamp: UInt64?) {
        remember(stamp) { $0.catalog.remember(name, template: template) }
    }

    func signUse(_ name: CatalogMemory.Name) -> (SignUse?, stamp: UInt64?) {
        guard let current else { return (nil, nil) }
        return state.withLock { s in
            s.follow(current)
            return (s.catalog.signUse(name), current)
        }
    }

    func store(_ name: CatalogMemory.Name, signUse: SignUse, stamp: UInt64?) {
        remember(stamp) { $0.catalog.remember(name, signUse: signUse) }
    }

    private func remember(_ stamp: UInt64?, _ change: (inout State) -> Void) {
        guard let stamp else { return }
        state.withLock { s in
            guard s.stamp == stamp, current == stamp else { return }
            change(&s)
        }
    }

    /// Marks every cached key stale, here and in every process that has the same directory open.
    func invalidate() {
        var next = UInt64.random(in: 0...UInt64.max)
        if let stamp {
            if next == stamp.load(as: UInt64.self) { next &+= 1 }
            stamp.storeBytes(of: next, as: UInt64.self)
        }
        state.withLock { s in
            s.keys.removeAll()
            s.catalog.removeAll()
            s.stamp = nil
        }
    }
}
