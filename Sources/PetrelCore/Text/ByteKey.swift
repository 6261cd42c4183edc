/// A string compared and hashed by its UTF-8 bytes, for caches in front of SQL. Swift's `String ==` is canonical
/// equivalence (U+212A KELVIN SIGN equals "K"), SQL compares bytes: a cache keyed by `String` would file the
/// store's answer for one id under another, e.g. cache "no such key" under a real key's id.
public struct ByteKey: Hashable, Sendable {
    public let string: String

    @inlinable
    public init(_ string: String) { self.string = string }

    @inlinable
    public static func == (a: ByteKey, b: ByteKey) -> Bool { a.string.utf8.elementsEqual(b.string.utf8) }

    @inlinable
    public func hash(into hasher: inout Hasher) {
        for b in string.utf8 { hasher.combine(b) }
    }
}

/// Whether `s` can be an identifier Petrel issues or names in configuration (access key ids, action names):
/// 1 to `maxLength` bytes of printable ASCII, no spaces. Checked before any lookup, so an id that cannot exist
/// never reaches a cache or the database.
@inlinable
public func isPlainIdentifier(_ s: String, maxLength: Int = 128) -> Bool {
    let u = s.utf8
    guard !u.isEmpty, u.count <= maxLength else { return false }
    return u.allSatisfy { $0 > 0x20 && $0 < 0x7F }
}
