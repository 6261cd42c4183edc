import Crypto
import Synchronization

/// ACS3-HMAC-SHA256, the official SDKs' default signature (`Authorization` header).
public enum SignatureV3 {
    public static let algorithm = "ACS3-HMAC-SHA256"

    public struct Authorization: Sendable, Equatable {
        public var credential: String
        public var signedHeaders: [String]
        public var signature: String
    }

    /// Parses `ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=a;b,Signature=hex`. Nil if a part is missing.
    public static func parseAuthorization(_ header: String) -> Authorization? {
        var header = header
        return header.withUTF8 { bytes -> Authorization? in
            let prefix = algorithm.utf8.count + 1
            guard bytes.count > prefix, bytes[prefix - 1] == 0x20, algorithm.utf8.elementsEqual(bytes[0..<(prefix - 1)])
            else { return nil }
            var credential: String?
            var signed: [String] = []
            var signature: String?
            var i = prefix
            while i < bytes.count {
                while i < bytes.count, bytes[i] == 0x20 { i += 1 }
                var eq = i
                while eq < bytes.count, bytes[eq] != UInt8(ascii: "="), bytes[eq] != UInt8(ascii: ",") { eq += 1 }
                var end = eq
                while end < bytes.count, bytes[end] != UInt8(ascii: ",") { end += 1 }
                if eq < end {
                    let key = UnsafeBufferPointer(rebasing: bytes[i..<eq])
                    let value = UnsafeBufferPointer(rebasing: bytes[(eq + 1)..<end])
                    switch key.count {
                    case 10 where "Credential".utf8.elementsEqual(key): credential = String(decoding: value, as: UTF8.self)
                    case 9 where "Signature".utf8.elementsEqual(key): signature = String(decoding: value, as: UTF8.self)
                    case 13 where "SignedHeaders".utf8.elementsEqual(key):
                        signed = value.split(separator: UInt8(ascii: ";")).map { name in
                            String(decoding: name.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
                        }
                    default: break
                    }
                }
                i = end + 1
            }
            guard let credential, !credential.isEmpty, !signed.isEmpty, let signature, !signature.isEmpty else { return nil }
            return Authorization(credential: credential, signedHeaders: signed, signature: signature)
        }
    }

    /// The canonical request of §2.2: method, path, canonical query (query parameters only; a form body is
    /// covered by the payload hash), the signed headers with their received values, and the payload hash.
    public static func canonicalRequest(
        _ request: RPCRequest, queryPairs: [(String, String)], signedHeaders: [String], payloadHash: String
    ) -> String {
        String(decoding: canonicalBytes(request, queryPairs: queryPairs, signedHeaders: signedHeaders, payloadHash: payloadHash), as: UTF8.self)
    }

    static func canonicalBytes(
        _ request: RPCRequest, queryPairs: [(String, String)], signedHeaders: [String], payloadHash: String
    ) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512 + request.query.utf8.count * 2)
        for b in request.method.utf8 { out.append(b >= 0x61 && b <= 0x7A ? b & ~0x20 : b) }
        out.append(0x0A)
        out.append(contentsOf: request.path.isEmpty ? Array("/".utf8) : Array(request.path.utf8))
        out.append(0x0A)
        FormEncoding.appendCanonicalQuery(queryPairs, into: &out)
        out.append(0x0A)
        let names = signedHeaders.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        for name in names {
            out.append(contentsOf: name.utf8)
            out.append(UInt8(ascii: ":"))
            var values = request.headerValues(name)
            if values.count > 1 {
                values = values.map(trim).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            } else if values.count == 1 {
                values[0] = trim(values[0])
            }
            for (i, v) in values.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                out.append(contentsOf: v.utf8)
            }
            out.append(0x0A)
        }
        out.append(0x0A)
        for (i, name) in names.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ";")) }
            out.append(contentsOf: name.utf8)
        }
        out.append(0x0A)
        out.append(contentsOf: payloadHash.utf8)
        return out
    }

    public static func stringToSign(canonicalRequest: String) -> String {
        stringToSign(canonicalBytes: Array(canonicalRequest.utf8))
    }

    static func stringToSign(canonicalBytes: [UInt8]) -> String {
        algorithm + "\n" + hexDigest(SHA256.hash(data: canonicalBytes))
    }

    public static func signature(stringToSign: String, secret: String) -> String {
        var mac = HMACCache.shared.hmac(secret: secret)
        mac.update(data: Array(stringToSign.utf8))
        return hexDigest(mac.finalize())
    }

    /// Signs a request the way the official SDK does (for clients such as `petrel bench`): returns the
    /// `Authorization` header value for the request's headers named in `signedHeaders` (lower-case).
    public static func authorization(
        _ request: RPCRequest, queryPairs: [(String, String)], signedHeaders: [String], accessKeyId: String, secret: String
    ) -> String {
        let names = signedHeaders.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        let canonical = canonicalBytes(request, queryPairs: queryPairs, signedHeaders: names, payloadHash: payloadHash(request.body))
        let sig = signature(stringToSign: stringToSign(canonicalBytes: canonical), secret: secret)
        return "\(algorithm) Credential=\(accessKeyId),SignedHeaders=\(names.joined(separator: ";")),Signature=\(sig)"
    }

    public static func payloadHash(_ body: [UInt8]) -> String {
        body.isEmpty ? emptyPayloadHash : hexDigest(SHA256.hash(data: body))
    }

    static let emptyPayloadHash = hexDigest(SHA256.hash(data: [UInt8]()))

    static func trim(_ s: String) -> String {
        guard let f = s.utf8.first, let l = s.utf8.last, f == 0x20 || f == 0x09 || l == 0x20 || l == 0x09 else { return s }
        var sub = Substring(s)
        while let c = sub.first, c == " " || c == "\t" { sub.removeFirst() }
        while let c = sub.last, c == " " || c == "\t" { sub.removeLast() }
        return String(sub)
    }
}

func hexDigest(_ bytes: some Sequence<UInt8>) -> String {
    let digits: [UInt8] = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(64)
    for b in bytes {
        out.append(digits[Int(b >> 4)])
        out.append(digits[Int(b & 0xF)])
    }
    return String(decoding: out, as: UTF8.self)
}

/// Compares two strings in time that depends only on their lengths.
public func constantTimeEquals(_ a: String, _ b: String) -> Bool {
    var x = a
    var y = b
    return x.withUTF8 { xb in
        y.withUTF8 { yb in
            guard xb.count == yb.count else { return false }
            var diff: UInt8 = 0
            for i in 0..<xb.count { diff |= xb[i] ^ yb[i] }
            return diff == 0
        }
    }
}

/// HMAC-SHA256 states keyed with recent secrets: setting up the key costs more than signing a request, and a
/// server sees the same few secrets over and over. A copied HMAC value carries the keyed state.
final class HMACCache: Sendable {
    /// swift-crypto's digest state is copy-on-write (it checks isKnownUniquelyReferenced), so copies of one
    /// keyed HMAC can be updated on different threads.
    private struct Keyed: @unchecked Sendable {
        let hmac: HMAC<SHA256>
    }

    static let shared = HMACCache()
    private let entries = Mutex<[String: Keyed]>([:])

    func hmac(secret: String) -> HMAC<SHA256> {
        if let k = entries.withLock({ $0[secret] }) { return k.hmac }
        let keyed = Keyed(hmac: HMAC<SHA256>(key: SymmetricKey(data: Array(secret.utf8))))
        entries.withLock { e in
            if e.count >= 1024 { e.removeAll() }
            e[secret] = keyed
        }
        return keyed.hmac
    }
}
