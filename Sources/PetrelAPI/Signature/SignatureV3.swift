import Crypto
import PetrelCore
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
            signed.reserveCapacity(8)
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
                    case 10 where "Credential".utf8.elementsEqual(key):
                        credential = String(decoding: value, as: UTF8.self)
                    case 9 where "Signature".utf8.elementsEqual(key): signature = String(decoding: value, as: UTF8.self)
                    case 13 where "SignedHeaders".utf8.elementsEqual(key):
                        var start = 0
                        for j in 0...value.count where j == value.count || value[j] == UInt8(ascii: ";") {
                            if j > start {
                                signed.append(asciiLowercased(UnsafeBufferPointer(rebasing: value[start..<j])))
                            }
                            start = j + 1
                        }
                    default: break
                    }
                }
                i = end + 1
            }
            guard let credential, !credential.isEmpty, !signed.isEmpty, let signature, !signature.isEmpty else {
                return nil
            }
            return Authorization(credential: credential, signedHeaders: signed, signature: signature)
        }
    }

    /// The canonical request of §2.2: method, path, canonical query (query parameters only; a form body is
    /// covered by the payload hash), the signed headers with their received values, and the payload hash.
    public static func canonicalRequest(
        _ request: RPCRequest,
        queryPairs: [(String, String)],
        signedHeaders: [String],
        payloadHash: String
    ) -> String {
        String(
            decoding: canonicalBytes(
                request,
                queryPairs: queryPairs,
                signedHeaders: signedHeaders,
                payloadHash: payloadHash
            ),
            as: UTF8.self
        )
    }

    static func canonicalBytes(
        _ request: RPCRequest,
        queryPairs: [(String, String)],
        signedHeaders: [String],
        payloadHash: String
    ) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512 + request.query.utf8.count * 2)
        for b in request.method.utf8 { out.append(b >= 0x61 && b <= 0x7A ? b & ~0x20 : b) }
        out.append(0x0A)
        if request.path.isEmpty { out.append(UInt8(ascii: "/")) } else { out.append(contentsOf: request.path.utf8) }
        out.append(0x0A)
        FormEncoding.appendCanonicalQuery(queryPairs, into: &out)
        out.append(0x0A)
        // The SDKs send them sorted already.
        let names = isSorted(signedHeaders) ? signedHeaders : signedHeaders.sorted(by: utf8Precedes)
        for name in names {
            out.append(contentsOf: name.utf8)
            out.append(UInt8(ascii: ":"))
            if let value = request.onlyValue(name) {
                out.append(contentsOf: trim(value).utf8)
            } else {
                let values = request.headerValues(name).map(trim).sorted(by: utf8Precedes)
                for (i, v) in values.enumerated() {
                    if i > 0 { out.append(UInt8(ascii: ",")) }
                    out.append(contentsOf: v.utf8)
                }
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

    static func isSorted(_ names: [String]) -> Bool {
        for i in names.indices.dropFirst() where !utf8Precedes(names[i - 1], names[i]) { return false }
        return true
    }

    public static func stringToSign(canonicalRequest: String) -> String {
        stringToSign(canonicalBytes: Array(canonicalRequest.utf8))
    }

    static func stringToSign(canonicalBytes: [UInt8]) -> String {
        String(decoding: stringToSignBytes(canonicalBytes: canonicalBytes), as: UTF8.self)
    }

    static func stringToSignBytes(canonicalBytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(algorithm.utf8.count + 65)
        out.append(contentsOf: algorithm.utf8)
        out.append(0x0A)
        appendHex(SHA256.hash(data: canonicalBytes), into: &out)
        return out
    }

    public static func signature(stringToSign: String, secret: String) -> String {
        signature(stringToSignBytes: Array(stringToSign.utf8), secret: secret)
    }

    static func signature(stringToSignBytes: [UInt8], secret: String) -> String {
        var mac = HMACCache.shared.hmac(secret: secret)
        mac.update(data: stringToSignBytes)
        return hexDigest(mac.finalize())
    }

    /// Signs a request the way the official SDK does (for clients such as `petrel-bench`): returns the
    /// `Authorization` header value for the request's headers named in `signedHeaders` (lower-case).
    public static func authorization(
        _ request: RPCRequest,
        queryPairs: [(String, String)],
        signedHeaders: [String],
        accessKeyId: String,
        secret: String
    ) -> String {
        let names = signedHeaders.sorted(by: utf8Precedes)
        let canonical = canonicalBytes(
            request,
            queryPairs: queryPairs,
            signedHeaders: names,
            payloadHash: payloadHash(request.body)
        )
        let sig = signature(stringToSignBytes: stringToSignBytes(canonicalBytes: canonical), secret: secret)
        return "\(algorithm) Credential=\(accessKeyId),SignedHeaders=\(names.joined(separator: ";")),Signature=\(sig)"
    }

    public static func payloadHash(_ body: [UInt8]) -> String {
        body.isEmpty ? emptyPayloadHash : hexDigest(SHA256.hash(data: body))
    }

    static let emptyPayloadHash = hexDigest(SHA256.hash(data: [UInt8]()))

    static func trim(_ s: String) -> String {
        guard let f = s.utf8.first, let l = s.utf8.last, f == 0x20 || f == 0x09 || l == 0x20 || l == 0x09 else {
            return s
        }
        var sub = Substring(s)
        while let c = sub.first, c == " " || c == "\t" { sub.removeFirst() }
        while let c = sub.last, c == " " || c == "\t" { sub.removeLast() }
        return String(sub)
    }
}

func hexDigest(_ bytes: some Sequence<UInt8>) -> String {
    var out: [UInt8] = []
    out.reserveCapacity(64)
    appendHex(bytes, into: &out)
    return String(decoding: out, as: UTF8.self)
}

private let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

func appendHex(_ bytes: some Sequence<UInt8>, into out: inout [UInt8]) {
    for b in bytes {
        out.append(hexDigits[Int(b >> 4)])
        out.append(hexDigits[Int(b & 0xF)])
    }
}

/// Byte order of the UTF-8 forms: the order both signature versions sort by.
func utf8Precedes(_ a: String, _ b: String) -> Bool { utf8Order(a, b) < 0 }

/// Negative, zero or positive as `a`'s UTF-8 bytes sort before, equal or after `b`'s (no Unicode equivalence).
func utf8Order(_ a: String, _ b: String) -> Int {
    var a = a
    var b = b
    return a.withUTF8 { x in
        b.withUTF8 { y in
            let n = min(x.count, y.count)
            if n > 0, let xa = x.baseAddress, let ya = y.baseAddress {
                let c = memcmp(xa, ya, n)
                if c != 0 { return Int(c) }
            }
            return x.count - y.count
        }
    }
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
    private let entries = Mutex<[ByteKey: Keyed]>([:])  // by bytes: two secrets may be canonically equal

    func hmac(secret: String) -> HMAC<SHA256> {
        if let k = entries.withLock({ $0[ByteKey(secret)] }) { return k.hmac }
        let keyed = Keyed(hmac: HMAC<SHA256>(key: SymmetricKey(data: Array(secret.utf8))))
        entries.withLock { e in
            if e.count >= 1024 { e.removeAll() }
            e[ByteKey(secret)] = keyed
        }
        return keyed.hmac
    }
}
