/// The decoded parameters of one call (query and form body together).
public struct Parameters: Sendable {
    public let pairs: [(String, String)]
    private let values: [String: String]

    public init(_ pairs: [(String, String)]) {
        self.pairs = pairs
        var values: [String: String] = [:]
        for (k, v) in pairs where values[k] == nil { values[k] = v }
        self.values = values
    }

    public subscript(_ name: String) -> String? { values[name] }

    /// The value, or `Missing{Name}` when absent or empty.
    public func required(_ name: String) throws(APIError) -> String {
        guard let v = values[name], !v.isEmpty else { throw APIError.missingParameter(name) }
        return v
    }

    /// The value, nil when absent or empty.
    public func optional(_ name: String) -> String? {
        guard let v = values[name], !v.isEmpty else { return nil }
        return v
    }
}
