import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// An address block as `--allow-ip` takes it: `10.0.0.0/8`, `2001:db8::/32`, or one address. IPv4 peers seen
/// through an IPv6 socket (`::ffff:a.b.c.d`) match IPv4 blocks.
public struct IPBlock: Sendable, Equatable, CustomStringConvertible {
    let bytes: [UInt8]
    let prefix: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = Self.parse(String(parts[0])) else { return nil }
        let bits = address.count * 8
        if parts.count == 2 {
            guard parts[1].count <= 3, let n = Int(parts[1]), (0...bits).contains(n) else { return nil }
            prefix = n
        } else {
            prefix = bits
        }
        bytes = address
    }

    public var description: String {
        var text = [CChar](repeating: 0, count: 64)
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        _ = bytes.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &text, socklen_t(text.count)) }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) + "/\(prefix)"
    }

    /// Whether the address (as text, e.g. a peer's `ipAddress`) is in this block.
    public func contains(_ address: String) -> Bool {
        guard var a = Self.parse(address) else { return false }
        if a.count == 16, bytes.count == 4, a.prefix(12).elementsEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF]) {
            a = Array(a.suffix(4))
        }
        guard a.count == bytes.count else { return false }
        var left = prefix
        for i in bytes.indices where left > 0 {
            let mask: UInt8 = left >= 8 ? 0xFF : ~(0xFF >> UInt8(left))
            if a[i] & mask != bytes[i] & mask { return false }
            left -= 8
        }
        return true
    }

    static func parse(_ text: String) -> [UInt8]? {
        guard !text.isEmpty, text.utf8.count < 64 else { return nil }
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }
}
