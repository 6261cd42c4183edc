/// An HTTP request as the RPC door sees it, independent of the HTTP server.
public struct RPCRequest: Sendable {
    public var method: String
    public var path: String
    /// The raw query string, without `?`.
    public var query: String
    /// Header fields as received; names are compared case-insensitively.
    public var headers: [(name: String, value: String)]
    /// `Host` (HTTP/1.1) or `:authority` (HTTP/2), exactly as sent: it is signed.
    public var authority: String
    public var body: [UInt8]

    public init(
        method: String, path: String = "/", query: String, headers: [(name: String, value: String)],
        authority: String, body: [UInt8] = []
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.authority = authority
        self.body = body
    }

    /// Every value of a header, in the order received.
    public func headerValues(_ name: String) -> [String] {
        let lower = name.lowercased()
        if lower == "host" { return [authority] }
        return headers.filter { $0.name.lowercased() == lower }.map(\.value)
    }

    public func header(_ name: String) -> String? { headerValues(name).first }

    public var isFormBody: Bool {
        guard !body.isEmpty else { return false }
        return header("content-type")?.lowercased().hasPrefix("application/x-www-form-urlencoded") ?? false
    }
}
