/// Where requests begin and end in the bytes the door hands to NIOHTTP1's decoder, so that the head and body
/// deadlines apply to Hummingbird's requests too (the door sees bytes there, not the decoder's parts).
///
/// It only needs to be right for deadlines, not for meaning: the decoder alone decides what a request is. Heads end
/// at the first empty line (bare LF tolerated, as llhttp does); a Content-Length body is counted; any other body
/// (Transfer-Encoding, an odd Content-Length) is `unknownBody`, which lasts until the response to it starts.
struct RequestFramer {
    enum Progress: Equatable {
        case head
        case body(remaining: Int)
        case unknownBody
    }

    private(set) var progress = Progress.head
    /// Bytes of the current head seen so far (0: between requests).
    private(set) var headBytes = 0
    /// The start of the current line, lower-cased (enough to recognise the two headers that frame a body).
    private var line: [UInt8] = []
    private var lineLength = 0
    private var lines = 0
    private var contentLength: Int?
    private var unknownLength = false

    private static let keep = 40

    init() {
        line.reserveCapacity(Self.keep)
    }

    /// Between two requests (nothing of the next one seen yet).
    var betweenRequests: Bool { progress == .head && headBytes == 0 && lines == 0 }

    /// Takes bytes up to the end of the current request: how many it took, whether the head ended in them and
    /// whether the request did (a body of unknown length takes everything and never ends here).
    mutating func feed(_ bytes: UnsafeRawBufferPointer) -> (consumed: Int, headEnded: Bool, requestEnded: Bool) {
        var headEnded = false
        var i = 0
        while i < bytes.count {
            switch progress {
            case .unknownBody:
                return (bytes.count, headEnded, false)
            case .body(let remaining):
                let n = min(remaining, bytes.count - i)
                i += n
                guard n == remaining else {
                    progress = .body(remaining: remaining - n)
                    return (i, headEnded, false)
                }
                progress = .head
                return (i, headEnded, true)
            case .head:
                let c = bytes[i]
                i += 1
                guard c == 0x0A else {
                    if line.count < Self.keep { line.append(c | (c >= 0x41 && c <= 0x5A ? 0x20 : 0)) }
                    lineLength += 1
                    headBytes += 1
                    continue
                }
                let empty = lineLength == 0 || (lineLength == 1 && line.first == 0x0D)
                if !empty && lines > 0 { header() }
                line.removeAll(keepingCapacity: true)
                lineLength = 0
                if empty && lines == 0 {
                    headBytes = 0  // blank lines before a request are skipped
                } else if empty {
                    headEnded = true
                    endHead()
                    if progress == .head { return (i, true, true) }
                } else {
                    lines += 1
                    headBytes += 1
                }
            }
        }
        return (i, headEnded, false)
    }

    /// The response to the current request started: a body of unknown length is over.
    mutating func responseStarted() {
        if progress == .unknownBody { progress = .head }
    }

    private mutating func endHead() {
        if unknownLength {
            progress = .unknownBody
        } else if let n = contentLength, n > 0 {
            progress = .body(remaining: n)
        } else {
            progress = .head
        }
        headBytes = 0
        lines = 0
        contentLength = nil
        unknownLength = false
    }

    private mutating func header() {
        if starts("transfer-encoding:") {
            unknownLength = true
        } else if starts("content-length:") {
            var n = 0
            var digits = 0
            var k = 15
            while k < line.count, line[k] == 0x20 || line[k] == 0x09 { k += 1 }
            while k < line.count, line[k] >= 0x30, line[k] <= 0x39, digits < 18 {
                n = n * 10 + Int(line[k] - 0x30)
                digits += 1
                k += 1
            }
            while k < line.count, line[k] == 0x20 || line[k] == 0x09 || line[k] == 0x0D { k += 1 }
            if digits == 0 || k < line.count || lineLength > line.count || (contentLength != nil && contentLength != n)
            {
                unknownLength = true
            } else {
                contentLength = n
            }
        }
    }

    private func starts(_ prefix: StaticString) -> Bool {
        let n = prefix.utf8CodeUnitCount
        guard line.count >= n else { return false }
        let p = prefix.utf8Start
        for k in 0..<n where line[k] != p[k] { return false }
        return true
    }
}
