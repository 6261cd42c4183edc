/// The decoded parameters of one call (query and form body together).
///
/// Looked up by a linear scan: a call has at most `Gateway.maxParameters` of them (the SDKs send about 15), and
/// a scan of that many short keys costs less than hashing them all into a dictionary on every request.
public struct Parameters: Sendable {
    public let pairs: [(String, String)]

    public init(_ pairs: [(String, String)]) {
        self.pairs = pairs
    }

    /// The first value given for `name`.
    public subscript(_ name: String) -> String? {
        for (k, v) in pairs where k == name { return v }
        return nil
    }

    /// The value, or `Missing{Name}` when absent or empty.
    public func required(_ name: String) throws(APIError) -> String {
        guard let v = self[name], !v.isEmpty else { throw APIError.missingParameter(name) }
        return v
    }

    /// The value, nil when absent or empty.
    public func optional(_ name: String) -> String? {
        guard let v = self[name], !v.isEmpty else { return nil }
        return v
    }
}
