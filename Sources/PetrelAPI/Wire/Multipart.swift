/// `multipart/form-data` bodies (RFC 7578), as browsers send a form with a file. Pure and linear in the body's
/// length (the boundary is at most 70 bytes, RFC 2046), so the fuzz target and the console share it.
public enum Multipart {
    public struct Part: Sendable {
        public var name: String
        public var filename: String?
        public var data: ArraySlice<UInt8>
        public var text: String { String(decoding: data, as: UTF8.self) }
    }

    /// RFC 2046: a boundary is 1 to 70 characters.
    public static let maxBoundaryLength = 70
    /// More parts than any console form has; a body with more is refused, not parsed to the end.
    public static let maxParts = 64
    /// The header block of one part; longer is malformed.
    public static let maxHeaderBytes = 8 * 1024

    /// The boundary named in a Content-Type header, if it is multipart/form-data. `.some(nil)` — multipart with a
    /// missing or invalid boundary — is distinct from `nil`, not multipart at all.
    public static func boundary(contentType: String) -> String?? {
        guard contentType.lowercased().hasPrefix("multipart/form-data") else { return nil }
        for param in contentType.split(separator: ";").dropFirst() {
            let kv = param.split(separator: "=", maxSplits: 1).map { trim($0, " \t") }
            if kv.count == 2, kv[0].lowercased() == "boundary" {
                let b = trim(Substring(kv[1]), "\"")
                return .some(valid(boundary: b) ? b : nil)
            }
        }
        return .some(nil)
    }

    /// 1 to 70 printable ASCII characters (RFC 2046 allows a subset; anything printable is harmless here).
    public static func valid(boundary: String) -> Bool {
        let u = boundary.utf8
        return (1...maxBoundaryLength).contains(u.count) && u.allSatisfy { $0 >= 0x20 && $0 < 0x7F }
    }

    /// The parts of `body`, or nil if it is malformed, has an invalid boundary or more than `maxParts` parts.
    /// `partial`: a body cut short is not malformed; the parts complete so far are returned (the console reads the
    /// CSRF field, the first part, before it reads a large upload).
    public static func parse(_ body: [UInt8], boundary: String, partial: Bool = false) -> [Part]? {
        guard valid(boundary: boundary) else { return nil }
        let delimiter = Array("--\(boundary)".utf8)
        let next = [13, 10] + delimiter
        var parts: [Part] = []
        guard var start = find(delimiter, in: body, from: 0) else { return partial ? parts : nil }
        while true {
            var i = start + delimiter.count
            if i + 2 > body.count { return partial ? parts : nil }
            if body[i] == 45, body[i + 1] == 45 { break }  // "--": the closing delimiter
            guard body[i] == 13, body[i + 1] == 10 else { return nil }
            i += 2
            guard parts.count < maxParts else { return nil }
            let headerLimit = min(body.count, i + maxHeaderBytes)
            guard let headerEnd = find([13, 10, 13, 10], in: body, from: i, to: headerLimit) else {
                return partial && headerLimit == body.count ? parts : nil
            }
            let dataStart = headerEnd + 4
            guard let end = find(next, in: body, from: dataStart) else { return partial ? parts : nil }
            var name = ""
            var filename: String?
            let headers = String(decoding: body[i..<headerEnd], as: UTF8.self)
            for line in headers.split(separator: "\r\n") where line.lowercased().hasPrefix("content-disposition:") {
                name = attribute("name", in: line) ?? ""
                filename = attribute("filename", in: line)
            }
            parts.append(Part(name: name, filename: filename, data: body[dataStart..<end]))
            start = end + 2
        }
        return parts
    }

    static func attribute(_ key: String, in line: Substring) -> String? {
        for piece in line.split(separator: ";") {
            let kv = piece.split(separator: "=", maxSplits: 1)
            if kv.count == 2, trim(kv[0], " ") == key { return trim(Substring(trim(kv[1], " ")), "\"") }
        }
        return nil
    }

    /// Without Foundation: CharacterSet is slow on Linux, and the fuzz target builds this file alone.
    static func trim(_ s: Substring, _ set: String) -> String {
        let drop = Set(set.unicodeScalars)
        var u = s.unicodeScalars[...]
        while let f = u.first, drop.contains(f) { u.removeFirst() }
        while let l = u.last, drop.contains(l) { u.removeLast() }
        return String(Substring(u))
    }

    /// First index of `needle` in `hay[from..<to]`. The needle is at most 74 bytes, so this is linear in the hay.
    static func find(_ needle: [UInt8], in hay: [UInt8], from: Int, to: Int? = nil) -> Int? {
        let end = to ?? hay.count
        guard let first = needle.first, from >= 0, end - from >= needle.count else { return nil }
        return hay.withUnsafeBufferPointer { h in
            needle.withUnsafeBufferPointer { n in
                var i = from
                let last = end - n.count
                while i <= last {
                    if h[i] == first {
                        var k = 1
                        while k < n.count, h[i + k] == n[k] { k += 1 }
                        if k == n.count { return i }
                    }
                    i += 1
                }
                return nil
            }
        }
    }
}
