/// `application/x-www-form-urlencoded` decoding and the RFC 3986 encoding both signature versions canonicalise with.
public enum FormEncoding {
    public struct DecodingError: Error, Equatable {
        public let text: String
    }

    /// Decodes `a=1&b=x+y%21` into ordered pairs. `+` is a space (Python's `urlencode` sends it), `%XX` are
    /// UTF-8 bytes. A key without `=` has an empty value; empty pieces (`a=1&&b=2`) are skipped.
    public static func decode(_ text: String) throws(DecodingError) -> [(String, String)] {
        var text = text
        return try text.withUTF8 { bytes in Result { () throws(DecodingError) in try decode(bytes) } }.get()
    }

    static func decode(_ bytes: UnsafeBufferPointer<UInt8>) throws(DecodingError) -> [(String, String)] {
        var pairs: [(String, String)] = []
        var start = 0
        for end in 0...bytes.count where end == bytes.count || bytes[end] == UInt8(ascii: "&") {
            defer { start = end + 1 }
            guard end > start else { continue }
            let piece = UnsafeBufferPointer(rebasing: bytes[start..<end])
            if let eq = piece.firstIndex(of: UInt8(ascii: "=")) {
                pairs.append(
                    (
                        try unescape(UnsafeBufferPointer(rebasing: piece[..<eq])),
                        try unescape(UnsafeBufferPointer(rebasing: piece[(eq + 1)...]))
                    )
                )
            } else {
                pairs.append((try unescape(piece), ""))
            }
        }
        return pairs
    }

    static func unescape(_ bytes: UnsafeBufferPointer<UInt8>) throws(DecodingError) -> String {
        guard bytes.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "+") }) else {
            return String(decoding: bytes, as: UTF8.self)
        }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "+") {
                out.append(UInt8(ascii: " "))
            } else if b == UInt8(ascii: "%") {
                guard i + 2 < bytes.count, let hi = hex(bytes[i + 1]), let lo = hex(bytes[i + 2]) else {
                    throw DecodingError(text: String(decoding: bytes, as: UTF8.self))
                }
                out.append(hi << 4 | lo)
                i += 2
            } else {
                out.append(b)
            }
            i += 1
        }
        guard let s = String(validating: out, as: UTF8.self) else {
            throw DecodingError(text: String(decoding: bytes, as: UTF8.self))
        }
        return s
    }

    static func hex(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    static let upperHex = Array("0123456789ABCDEF".utf8)

    /// RFC 3986 percent-encoding of the UTF-8 bytes: `A-Z a-z 0-9 - _ . ~` stay, everything else is `%XX`.
    public static func percentEncode(_ text: some StringProtocol) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        appendPercentEncoded(text, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func appendPercentEncoded(_ text: some StringProtocol, into out: inout [UInt8]) {
        var text = String(text)
        text.withUTF8 { appendPercentEncoded($0, into: &out) }
    }

    static func appendPercentEncoded(_ bytes: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        for b in bytes {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                UInt8(ascii: "~"):
                out.append(b)
            default:
                out.append(UInt8(ascii: "%"))
                out.append(upperHex[Int(b >> 4)])
                out.append(upperHex[Int(b & 0xF)])
            }
        }
    }

    /// Pairs sorted by key bytes (then value), each side percent-encoded, joined with `&`.
    public static func canonicalQuery(_ pairs: [(String, String)]) -> String {
        var out: [UInt8] = []
        appendCanonicalQuery(pairs, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func appendCanonicalQuery(_ pairs: [(String, String)], into out: inout [UInt8]) {
        let sorted = pairs.sorted { a, b in
            let byKey = utf8Order(a.0, b.0)
            return byKey != 0 ? byKey < 0 : utf8Precedes(a.1, b.1)
        }
        for (i, (k, v)) in sorted.enumerated() {
            if i > 0 { out.append(UInt8(ascii: "&")) }
            appendPercentEncoded(k, into: &out)
            out.append(UInt8(ascii: "="))
            appendPercentEncoded(v, into: &out)
        }
    }
}
