import Crypto
import Foundation
import Synchronization

/// Signed-in console users. Sessions live in memory: a restart signs everyone out, which is the safe failure.
final class ConsoleSessions: Sendable {
    struct Session: Sendable {
        let token: String
        let keyId: String
        let account: String
        /// Sent back in every form (and the X-CSRF-Token header); a request without it changes nothing.
        let csrf: String
        var lastSeenMs: Int64
        /// The key's policy, read again on every request (`KeyAuth.session`); nil: full rights.
        var policy: String? = nil
    }

    static let cookie = "petrel_console"
    private let sessions = Mutex<[String: Session]>([:])
    let idleMs: Int64

    init(idleMs: Int64 = 8 * 3600 * 1000) { self.idleMs = idleMs }

    func create(keyId: String, account: String, nowMs: Int64) -> Session {
        let s = Session(token: Self.random(), keyId: keyId, account: account, csrf: Self.random(), lastSeenMs: nowMs)
        sessions.withLock { all in
            all = all.filter { nowMs - $0.value.lastSeenMs < idleMs }
            all[s.token] = s
        }
        return s
    }

    func find(token: String, nowMs: Int64) -> Session? {
        sessions.withLock { all in
            guard var s = all[token] else { return nil }
            guard nowMs - s.lastSeenMs < idleMs else {
                all[token] = nil
                return nil
            }
            s.lastSeenMs = nowMs
            all[token] = s
            return s
        }
    }

    func remove(token: String) { _ = sessions.withLock { $0.removeValue(forKey: token) } }

    static func random() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Constant-time equality of two tokens.
    static func same(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count, !x.isEmpty else { return false }
        var diff: UInt8 = 0
        for i in 0..<x.count { diff |= x[i] ^ y[i] }
        return diff == 0
    }
}
