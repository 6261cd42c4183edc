/// An HTTP request as the RPC door sees it, independent of the HTTP server.
public struct RPCRequest: Sendable {
    public var method: String
    public var path: String
    /// The raw query string, without `?`.
    public var query: String
    /// Header fields as received; names are compared case-insensitively.
    public var headers: [(name: String, value: String)] {
        didSet { lowercasedNames = headers.map { asciiLowercased($0.name) } }
    }
    /// `Host` (HTTP/1.1) or `:authority` (HTTP/2), exactly as sent: it is signed.
    public var authority: String
    public var body: [UInt8]
    private var lowercasedNames: [String]

    public init(
        method: String,
        path: String = "/",
        query: String,
        headers: [(name: String, value: String)],
        authority: String,
        body: [UInt8] = []
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.lowercasedNames = headers.map { asciiLowercased($0.name) }
        self.authority = authority
        self.body = body
    }

    /// Every value of a header, in the order received. `name` must be lower-case.
    public func headerValues(_ name: String) -> [String] {
        if name == "host" { return [authority] }
        var values: [String] = []
        for (i, n) in lowercasedNames.enumerated() where n == name { values.append(headers[i].value) }
        return values
    }

    /// The value of a header that was sent once; nil when it was not sent or sent more than once.
    public func onlyValue(_ name: String) -> String? {
        if name == "host" { return authority }
        var found: Int?
        for (i, n) in lowercasedNames.enumerated() where n == name {
            if found != nil { return nil }
            found = i
        }
        return found.map { headers[$0].value }
    }

    /// The first value of a header. `name` must be lower-case.
    public func header(_ name: String) -> String? {
        if name == "host" { return authority }
        guard let i = lowercasedNames.firstIndex(of: name) else { return nil }
        return headers[i].value
    }

    public var isFormBody: Bool {
        guard !body.isEmpty, let type = header("content-type") else { return false }
        return asciiLowercased(type).hasPrefix("application/x-www-form-urlencoded")
    }
}

/// ASCII-only lower-casing: header names and tokens, without the cost of Unicode case mapping.
func asciiLowercased(_ s: String) -> String {
    guard s.utf8.contains(where: { $0 >= 0x41 && $0 <= 0x5A }) else { return s }
    var s = s
    return s.withUTF8(asciiLowercased)
}

/// `asciiLowercased` of UTF-8 bytes.
func asciiLowercased(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
    guard bytes.contains(where: { $0 >= 0x41 && $0 <= 0x5A }) else { return String(decoding: bytes, as: UTF8.self) }
    return String(decoding: bytes.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
}
