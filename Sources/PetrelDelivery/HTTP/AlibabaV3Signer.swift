import Crypto
import Foundation

/// Signs requests to Alibaba Cloud's RPC APIs the way the official SDKs do (ACS3-HMAC-SHA256, the wire protocol's
/// §2.2); the client side of PetrelAPI's `SignatureV3` verifier, for the `preset: alibaba` channel.
public enum AlibabaV3Signer {
    public static let algorithm = "ACS3-HMAC-SHA256"

    /// `k=v&…` sorted by key, values percent-encoded by RFC 3986 (A-Z a-z 0-9 - _ . ~ kept).
    public static func canonicalQuery(_ pairs: [(String, String)]) -> String {
        pairs.sorted { Array($0.0.utf8).lexicographicallyPrecedes(Array($1.0.utf8)) }.map { k, v in
            var value = ""
            MessageTemplate.escape(v, .url, into: &value)
            return "\(k)=\(value)"
        }.joined(separator: "&")
    }

    /// The canonical request; `headers` are the signed ones (any case; values trimmed).
    public static func canonicalRequest(
        method: String,
        path: String,
        query: [(String, String)],
        headers: [(String, String)],
        body: [UInt8]
    ) -> (text: String, signedHeaders: String) {
        var byName: [String: [String]] = [:]
        for (name, value) in headers {
            byName[name.lowercased(), default: []].append(
                value.trimmingCharacters(in: CharacterSet(charactersIn: " \t"))
            )
        }
        let names = byName.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        var lines = [method.uppercased(), path.isEmpty ? "/" : path, canonicalQuery(query)]
        for name in names {
            let values = byName[name, default: []].sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            lines.append("\(name):\(values.joined(separator: ","))")
        }
        let signed = names.joined(separator: ";")
        lines += ["", signed, payloadHash(body)]
        return (lines.joined(separator: "\n"), signed)
    }

    public static func signature(canonicalRequest: String, secret: String) -> String {
        let toSign = "\(algorithm)\n" + hex(SHA256.hash(data: Array(canonicalRequest.utf8)))
        let mac = HMAC<SHA256>.authenticationCode(
            for: Array(toSign.utf8),
            using: SymmetricKey(data: Array(secret.utf8))
        )
        return hex(mac)
    }

    /// The `Authorization` header value.
    public static func authorization(
        method: String,
        path: String,
        query: [(String, String)],
        headers: [(String, String)],
        body: [UInt8],
        accessKeyId: String,
        secret: String
    ) -> String {
        let (canonical, signed) = canonicalRequest(
            method: method,
            path: path,
            query: query,
            headers: headers,
            body: body
        )
        let sig = signature(canonicalRequest: canonical, secret: secret)
        return "\(algorithm) Credential=\(accessKeyId),SignedHeaders=\(signed),Signature=\(sig)"
    }

    public static func payloadHash(_ body: [UInt8]) -> String { hex(SHA256.hash(data: body)) }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }

    /// `x-acs-date`: UTC, whole seconds.
    public static func date(ms: Int64) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd'T'HH:mm:ss'Z'"
        return f.string(from: Date(timeIntervalSince1970: Double(ms / 1000)))
    }
}
