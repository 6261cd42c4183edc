import Foundation
import HTTPTypes
import Hummingbird
import PetrelStore

/// Who is calling the console or the sandbox routes: an access key id and secret (the sign-in form, the script
/// session, HTTP Basic on /sandbox/messages), throttled by `SignInThrottle`, or a console session cookie.
struct KeyAuth: Sendable {
    let store: any KeyStore
    let sessions: ConsoleSessions
    let throttle: SignInThrottle
    let clock: @Sendable () -> Int64

    enum Outcome {
        case key(AccessKeyRecord)
        case wrong
        /// Too many failures from this address or for this key id: try again in this many seconds.
        case wait(seconds: Int64)
    }

    func verify(keyId: String, secret: String, address: String) async -> Outcome {
        let now = clock()
        // Ids are short; a long guess is counted under its first 128 bytes, so the table's entries stay small.
        let counted = String(decoding: keyId.utf8.prefix(128), as: UTF8.self)
        let wait = throttle.wait(keyId: counted, address: address, nowMs: now)
        if wait > 0 { return .wait(seconds: (wait + 999) / 1000) }
        guard !keyId.isEmpty, keyId.utf8.count <= 128, let key = try? await store.accessKey(id: keyId), key.enabled,
            ConsoleSessions.same(key.secret, secret)
        else {
            throttle.failed(keyId: counted, address: address, nowMs: now)
            return .wrong
        }
        throttle.succeeded(keyId: counted, address: address)
        return .key(key)
    }

    /// The session named by the cookie, if it exists and its key is still enabled (a disabled or deleted key
    /// signs its sessions out at once), with the key's current policy.
    func session(_ request: Request) async -> ConsoleSessions.Session? {
        guard let token = Self.cookie(ConsoleSessions.cookie, request),
            var s = sessions.find(token: token, nowMs: clock())
        else {
            return nil
        }
        guard let key = try? await store.accessKey(id: s.keyId), key.enabled, key.account == s.account else {
            sessions.remove(token: token)
            return nil
        }
        s.policy = key.policy
        return s
    }

    /// `Authorization: Basic base64(id:secret)`.
    static func basic(_ request: Request) -> (id: String, secret: String)? {
        guard let value = request.headers[.authorization], value.count <= 1024 else { return nil }
        let parts = value.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "basic",
            let data = Data(base64Encoded: String(parts[1]).trimmingCharacters(in: .whitespaces))
        else { return nil }
        let pair = String(decoding: data, as: UTF8.self)
            .split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard pair.count == 2 else { return nil }
        return (String(pair[0]), String(pair[1]))
    }

    static func cookie(_ name: String, _ request: Request) -> String? {
        for header in request.headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let kv = pair.split(separator: "=", maxSplits: 1)
                let space = CharacterSet(charactersIn: " ")
                if kv.count == 2, kv[0].trimmingCharacters(in: space) == name {
                    return String(kv[1]).trimmingCharacters(in: space)
                }
            }
        }
        return nil
    }

    /// A state-changing request a browser sent from this site, or one a script sent (no browser headers). A
    /// browser's `Sec-Fetch-Site` decides when present (same-origin, or none: typed or bookmarked); otherwise
    /// `Origin`, when present, must name the host the request was sent to.
    static func sameOrigin(_ request: Request) -> Bool {
        if let site = request.headers[HTTPField.Name("Sec-Fetch-Site")!] {
            return site == "same-origin" || site == "none"
        }
        guard let origin = request.headers[HTTPField.Name("Origin")!] else { return true }
        guard let host = request.head.authority ?? request.headers[HTTPField.Name("Host")!],
            let r = origin.range(of: "://")
        else { return false }
        return origin[r.upperBound...].lowercased() == host.lowercased()
    }
}
