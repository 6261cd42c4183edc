import Foundation
import PetrelCore
import Synchronization

/// Access keys in memory, checked on every request against a stamp that every key change rewrites. The stamp is
/// the first 8 bytes of `keys.stamp`, mapped shared into every process that opens the data directory: a
/// `petrel keys` command in another process writes a new value into the same page the server reads, so the change
/// takes effect on the server's next request, at the cost of one memory read (no system call, no database read,
/// no decryption).
final class KeyCache: Sendable {
    private struct State {
        var stamp: UInt64?
        var keys: [ByteKey: AccessKeyRecord?] = [:]
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

    /// The cached answer for `id` (which may be "no such key"), or nil when the database must be asked.
    func lookup(_ id: String) -> AccessKeyRecord?? {
        guard let current = stamp?.load(as: UInt64.self) else { return nil }
        return state.withLock { s in
            if s.stamp != current {
                s.keys.removeAll()
                s.stamp = current
                return nil
            }
            return s.keys[ByteKey(id)]
        }
    }

    func store(_ id: String, _ key: AccessKeyRecord?) {
        // An id that cannot exist is never remembered, not even as "no such key".
        guard isPlainIdentifier(id) else { return }
        state.withLock { s in
            if s.keys.count >= maxEntries { s.keys.removeAll() }
            s.keys[ByteKey(id)] = .some(key)
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
            s.stamp = nil
        }
    }
}
