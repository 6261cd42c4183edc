import Crypto

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
        guard header.hasPrefix(algorithm + " ") else { return nil }
        var credential: String?
        var signed: String?
        var signature: String?
        for part in header.dropFirst(algorithm.count + 1).split(separator: ",") {
            let trimmed = part.drop(while: { $0 == " " })
            guard let eq = trimmed.firstIndex(of: "=") else { continue }
            let value = String(trimmed[trimmed.index(after: eq)...])
            switch trimmed[..<eq] {
            case "Credential": credential = value
            case "SignedHeaders": signed = value
            case "Signature": signature = value
            default: break
            }
        }
        guard let credential, !credential.isEmpty, let signed, !signed.isEmpty, let signature, !signature.isEmpty
        else { return nil }
        let names = signed.split(separator: ";").map { $0.lowercased() }
        return Authorization(credential: credential, signedHeaders: names, signature: signature)
    }

    /// The canonical request of §2.2: method, path, canonical query (query parameters only; a form body is
    /// covered by the payload hash), the signed headers with their received values, and the payload hash.
    public static func canonicalRequest(
        _ request: RPCRequest, queryPairs: [(String, String)], signedHeaders: [String], payloadHash: String
    ) -> String {
        let names = signedHeaders.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        var headerLines = ""
        for name in names {
            let values = request.headerValues(name).map { trim($0) }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            headerLines += name + ":" + values.joined(separator: ",") + "\n"
        }
        return [
            request.method.uppercased(),
            request.path.isEmpty ? "/" : request.path,
            FormEncoding.canonicalQuery(queryPairs),
            headerLines,
            names.joined(separator: ";"),
            payloadHash,
        ].joined(separator: "\n")
    }

    public static func stringToSign(canonicalRequest: String) -> String {
        algorithm + "\n" + hexDigest(SHA256.hash(data: Array(canonicalRequest.utf8)))
    }

    public static func signature(stringToSign: String, secret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: SymmetricKey(data: Array(secret.utf8)))
        return hexDigest(mac)
    }

    public static func payloadHash(_ body: [UInt8]) -> String {
        hexDigest(SHA256.hash(data: body))
    }

    static func trim(_ s: String) -> String {
        var sub = Substring(s)
        while let f = sub.first, f == " " || f == "\t" { sub.removeFirst() }
        while let l = sub.last, l == " " || l == "\t" { sub.removeLast() }
        return String(sub)
    }
}

func hexDigest(_ bytes: some Sequence<UInt8>) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    for b in bytes {
        out.append(digits[Int(b >> 4)])
        out.append(digits[Int(b & 0xF)])
    }
    return String(decoding: out, as: UTF8.self)
}

/// Compares two strings in time that depends only on their lengths.
public func constantTimeEquals(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8)
    let y = Array(b.utf8)
    guard x.count == y.count else { return false }
    var diff: UInt8 = 0
    for i in 0..<x.count { diff |= x[i] ^ y[i] }
    return diff == 0
}
