import Foundation
import Synchronization

/// Access keys in memory, checked on every request against a stamp file that every key change replaces
/// (write + rename, so its inode changes). A `petrel keys` command in another process therefore takes effect
/// on the server's next request, at the cost of one stat() instead of a database read and a decryption.
final class KeyCache: Sendable {
    private struct State {
        var stamp: (ino: UInt64, sec: Int, nsec: Int)?
        var keys: [String: AccessKeyRecord?] = [:]
    }

    private let stampPath: String
    private let state = Mutex(State())
    private let maxEntries = 10_000

    init(directory: String) {
        stampPath = (directory as NSString).appendingPathComponent("keys.stamp")
    }

    private func currentStamp() -> (ino: UInt64, sec: Int, nsec: Int)? {
        var st = stat()
        guard stat(stampPath, &st) == 0 else { return nil }
        return (UInt64(st.st_ino), st.st_mtim.tv_sec, st.st_mtim.tv_nsec)
    }

    /// The cached answer for `id` (which may be "no such key"), or nil when the database must be asked.
    func lookup(_ id: String) -> AccessKeyRecord?? {
        let stamp = currentStamp()
        return state.withLock { s in
            if !Self.same(s.stamp, stamp) {
                s.keys.removeAll()
                s.stamp = stamp
                return nil
            }
            return s.keys[id]
        }
    }

    func store(_ id: String, _ key: AccessKeyRecord?) {
        state.withLock { s in
            if s.keys.count >= maxEntries { s.keys.removeAll() }
            s.keys[id] = .some(key)
        }
    }

    /// Marks every cached key stale, here and in every process watching the same directory.
    func invalidate() {
        let temp = stampPath + ".\(getpid()).tmp"
        FileManager.default.createFile(atPath: temp, contents: Data(String(UInt64.random(in: 0...UInt64.max)).utf8))
        rename(temp, stampPath)
        state.withLock { s in
            s.keys.removeAll()
            s.stamp = nil
        }
    }

    private static func same(_ a: (ino: UInt64, sec: Int, nsec: Int)?, _ b: (ino: UInt64, sec: Int, nsec: Int)?) -> Bool {
        switch (a, b) {
        case (nil, nil): return true
        case (let x?, let y?): return x.ino == y.ino && x.sec == y.sec && x.nsec == y.nsec
        default: return false
        }
    }
}
