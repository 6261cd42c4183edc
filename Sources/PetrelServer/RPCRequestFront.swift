import NIOCore
import PetrelAPI
import PetrelCore

#if canImport(Glibc)
import Glibc
#endif

/// Reads plain RPC requests straight from the connection's bytes, in front of NIOHTTP1's decoder (for `HTTPDoor`).
///
/// An SDK's request is always the same shape: `POST /?…` (or `GET /?…`), HTTP/1.1, a dozen ordinary headers,
/// a Content-Length body or none. For that shape the general decoder (llhttp, an `HTTPRequestHead` with its
/// header strings, then our copy of them into an `RPCRequest`) cost about a tenth of a single send's CPU on the
/// event loop. Such requests are parsed here into an `RPCRequest` and served by the door directly.
///
/// Anything else, or anything unusual (another path or method, HTTP/1.0, Transfer-Encoding, Expect, Upgrade,
/// folded or malformed header lines, a head over `maxHead` bytes, a body over `maxBody`), is `.general`: the door
/// hands the bytes and all that follow to NIOHTTP1's decoder, which answers exactly as it did without the door (its
/// limits, its errors). A plain RPC head announcing a body over `maxBody` is answered 413 by the door itself
/// (`oversized`). Consoles and SDKs use separate connections, so in practice a connection is all fast or all general.
enum RPCRequestFront {
    /// A request head, already split into its parts (`Parsed.request` is what the gateway sees).
    struct Parsed {
        var request: RPCRequest
        var keepAlive: Bool
        /// Bytes of head and body together.
        var length: Int
    }

    enum Outcome {
        case request(Parsed)
        /// Not all of it has arrived yet.
        case incomplete
        /// Not the plain shape: the general decoder takes over.
        case general
    }

    static func parse(_ buffer: ByteBuffer, maxHead: Int, maxBody: Int) -> Outcome {
        buffer.withUnsafeReadableBytes { raw in
            parse(raw.bindMemory(to: UInt8.self), maxHead: maxHead, maxBody: maxBody)
        }
    }

    /// A plain RPC head whose Content-Length is over `maxBody`: the length of head and body together (the door
    /// skips the body and answers 413, holding none of it), and whether the connection stays open after.
    static func oversized(_ buffer: ByteBuffer, maxHead: Int, maxBody: Int) -> (length: Int, keepAlive: Bool)? {
        buffer.withUnsafeReadableBytes { raw in
            guard
                case .request(let p) = parse(
                    raw.bindMemory(to: UInt8.self),
                    maxHead: maxHead,
                    maxBody: maxBody,
                    onlyOversized: true
                )
            else { return nil }
            return (p.length, p.keepAlive)
        }
    }

    /// The search for the blank line that ends the head, resumable so a head that arrives in many small reads is
    /// scanned once, not once per read: `done` when it has arrived, when a line ends in a bare LF, or when the head is
    /// over `maxHead` (then `parse` decides); otherwise where to resume (the start of the last, unfinished line).
    static func findHeadEnd(_ buffer: ByteBuffer, from: Int, maxHead: Int) -> (done: Bool, resume: Int) {
        buffer.withUnsafeReadableBytes { raw in
            let b = raw.bindMemory(to: UInt8.self)
            let n = min(b.count, maxHead + 4)
            var i = min(from, n)
            while let lf = find(b, 0x0A, from: i, to: n) {
                guard lf > 0, b[lf - 1] == 0x0D else { return (true, 0) }
                if lf >= 3, b[lf - 2] == 0x0A, b[lf - 3] == 0x0D { return (true, 0) }
                i = lf + 1
            }
            return (b.count > maxHead, i)
        }
    }

    /// Whether the blank line ending the head has arrived (within `maxHead` bytes): the body's deadline runs.
    static func headComplete(_ buffer: ByteBuffer, maxHead: Int) -> Bool {
        buffer.withUnsafeReadableBytes { raw in
            (endOfHead(raw.bindMemory(to: UInt8.self), limit: maxHead) ?? -1) >= 0
        }
    }

    /// `onlyOversized`: the head alone decides; a plain head with a body over `maxBody` is a `.request` whose body is
    /// empty and whose length counts the announced body; every other request is `.general`.
    static func parse(
        _ b: UnsafeBufferPointer<UInt8>,
        maxHead: Int,
        maxBody: Int,
        onlyOversized: Bool = false
    ) -> Outcome {
        guard let headEnd = endOfHead(b, limit: maxHead) else { return b.count > maxHead ? .general : .incomplete }
        guard headEnd >= 0 else { return .general }
        // Request line: METHOD SP /target SP HTTP/1.1 CRLF
        guard let lineEnd = find(b, 0x0D, from: 0, to: headEnd + 1), lineEnd + 1 < b.count, b[lineEnd + 1] == 0x0A,
            let sp1 = find(b, 0x20, from: 0, to: lineEnd), let sp2 = find(b, 0x20, from: sp1 + 1, to: lineEnd)
        else { return .general }
        let method = UnsafeBufferPointer(rebasing: b[0..<sp1])
        let target = UnsafeBufferPointer(rebasing: b[(sp1 + 1)..<sp2])
        guard equals(UnsafeBufferPointer(rebasing: b[(sp2 + 1)..<lineEnd]), "HTTP/1.1"),
            equals(method, "POST") || equals(method, "GET"),
            target.count >= 1, target[0] == UInt8(ascii: "/"), target.count == 1 || target[1] == UInt8(ascii: "?"),
            all(target, { $0 > 0x20 && $0 < 0x7F })
        else { return .general }

        var headers: [(name: String, value: String)] = []
        headers.reserveCapacity(16)
        var host: String?
        var contentLength: Int?
        var keepAlive = true
        var i = lineEnd + 2
        while i < headEnd {
            guard let end = find(b, 0x0D, from: i, to: headEnd + 1), end + 1 < b.count, b[end + 1] == 0x0A,
                let colon = find(b, UInt8(ascii: ":"), from: i, to: end), colon > i
            else { return .general }
            let name = UnsafeBufferPointer(rebasing: b[i..<colon])
            guard all(name, isTokenByte) else { return .general }
            var vs = colon + 1
            var ve = end
            while vs < ve, b[vs] == 0x20 || b[vs] == 0x09 { vs += 1 }
            while ve > vs, b[ve - 1] == 0x20 || b[ve - 1] == 0x09 { ve -= 1 }
            let value = UnsafeBufferPointer(rebasing: b[vs..<ve])
            guard all(value, { $0 >= 0x20 && $0 != 0x7F || $0 == 0x09 }) else { return .general }
            switch headerKind(name) {
            case .contentLength:
                guard let n = decimalValue(value, maxDigits: 12), contentLength == nil || contentLength == n else {
                    return .general
                }
                contentLength = n
            case .host:
                guard host == nil else { return .general }
                host = String(decoding: value, as: UTF8.self)
            case .connection:
                if containsToken(value, "close") { keepAlive = false }
            case .unusual:
                return .general
            case .plain:
                break
            }
            headers.append((String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self)))
            guard headers.count <= 100 else { return .general }
            i = end + 2
        }
        let bodyLength = contentLength ?? 0
        let bodyStart = headEnd + 4
        if onlyOversized {
            guard bodyLength > maxBody else { return .general }
            let request = RPCRequest(method: "", path: "/", query: "", headers: [], authority: "", body: [])
            return .request(Parsed(request: request, keepAlive: keepAlive, length: bodyStart + bodyLength))
        }
        guard bodyLength <= maxBody else { return .general }
        guard b.count - bodyStart >= bodyLength else { return .incomplete }

        let question = target.firstIndex(of: UInt8(ascii: "?"))
        let request = RPCRequest(
            method: String(decoding: method, as: UTF8.self),
            path: "/",
            query: question.map { String(decoding: UnsafeBufferPointer(rebasing: target[($0 + 1)...]), as: UTF8.self) }
                ?? "",
            headers: headers,
            authority: host ?? "",
            body: Array(UnsafeBufferPointer(rebasing: b[bodyStart..<(bodyStart + bodyLength)]))
        )
        return .request(Parsed(request: request, keepAlive: keepAlive, length: bodyStart + bodyLength))
    }

    /// Index of the CR of the blank line (`\r\n\r\n`) that ends the head, if it is within `limit` bytes; -1 if a
    /// line ends in a bare LF before it (lenient framing is the general decoder's business).
    private static func endOfHead(_ b: UnsafeBufferPointer<UInt8>, limit: Int) -> Int? {
        let n = min(b.count, limit + 4)
        var i = 0
        while let lf = find(b, 0x0A, from: i, to: n) {
            guard lf > 0, b[lf - 1] == 0x0D else { return -1 }
            if lf >= 3, b[lf - 2] == 0x0A, b[lf - 3] == 0x0D { return lf - 3 }
            i = lf + 1
        }
        return nil
    }

    private static func find(_ b: UnsafeBufferPointer<UInt8>, _ byte: UInt8, from: Int, to: Int) -> Int? {
        let end = min(to, b.count)
        guard from < end, let base = b.baseAddress, let hit = memchr(base + from, Int32(byte), end - from) else {
            return nil
        }
        return base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
    }

    private static func equals(_ bytes: UnsafeBufferPointer<UInt8>, _ text: StaticString) -> Bool {
        bytes.count == text.utf8CodeUnitCount
            && (bytes.isEmpty || memcmp(bytes.baseAddress!, text.utf8Start, bytes.count) == 0)
    }

    /// `allSatisfy` as a plain loop over the bytes (the generic one is not specialised here).
    @inline(__always)
    private static func all(_ bytes: UnsafeBufferPointer<UInt8>, _ ok: (UInt8) -> Bool) -> Bool {
        var i = 0
        while i < bytes.count {
            if !ok(bytes[i]) { return false }
            i += 1
        }
        return true
    }

    private enum HeaderKind { case plain, contentLength, host, connection, unusual }

    private static func headerKind(_ name: UnsafeBufferPointer<UInt8>) -> HeaderKind {
        func named(_ s: StaticString) -> Bool {
            guard name.count == s.utf8CodeUnitCount else { return false }
            let p = s.utf8Start
            for k in 0..<name.count where name[k] | 0x20 != p[k] | 0x20 { return false }
            return true
        }
        switch name.count {
        case 4 where named("host"): return .host
        case 14 where named("content-length"): return .contentLength
        case 10 where named("connection"): return .connection
        case 17 where named("transfer-encoding"): return .unusual
        case 6 where named("expect"): return .unusual
        case 7 where named("upgrade"): return .unusual
        default: return .plain
        }
    }

    /// RFC 9110 token characters.
    private static let tokenBytes: [Bool] = (0..<256).map { c in
        switch UInt8(c) {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(UInt8(c))
        }
    }

    private static func isTokenByte(_ c: UInt8) -> Bool { tokenBytes[Int(c)] }

    /// Whether a comma-separated header value lists `token` (lower-case; the value in any letter case).
    private static func containsToken(_ v: UnsafeBufferPointer<UInt8>, _ token: StaticString) -> Bool {
        var start = 0
        for end in 0...v.count where end == v.count || v[end] == UInt8(ascii: ",") {
            defer { start = end + 1 }
            var s = start
            var e = end
            while s < e, v[s] == 0x20 || v[s] == 0x09 { s += 1 }
            while e > s, v[e - 1] == 0x20 || v[e - 1] == 0x09 { e -= 1 }
            guard e - s == token.utf8CodeUnitCount else { continue }
            if (0..<(e - s)).allSatisfy({ v[s + $0] | 0x20 == token.utf8Start[$0] }) { return true }
        }
        return false
    }
}
