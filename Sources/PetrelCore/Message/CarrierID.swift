/// Carrier message ids as SMSCs write them. Many answer submit_sm in one form and quote the id in receipts in
/// another (hex vs decimal, with or without leading zeros, upper or lower case), so ids are stored normalised
/// and a receipt is matched through the reading its carrier is known (or found) to use.
public enum CarrierID {
    /// The longest id accepted, in UTF-8 bytes: submit_sm_resp carries message_id as a C-Octet String of at
    /// most 65 bytes with its NUL (SMPP 3.4 §4.4.2), so no id we stored is longer and a longer one in a
    /// receipt cannot name any message. Such receipts are refused (acknowledged and dropped), not truncated:
    /// a truncated id could match another message's.
    public static let maxLength = 64

    /// Lower-case, no surrounding spaces, no leading zeros. One pass: this runs for every receipt, and a
    /// hostile id may be long.
    public static func normalize(_ raw: some StringProtocol) -> String {
        let utf8 = Substring(raw).utf8
        guard let first = utf8.firstIndex(where: { $0 != UInt8(ascii: " ") }),
            let last = utf8.lastIndex(where: { $0 != UInt8(ascii: " ") })
        else { return "" }
        var start = first
        // Leading zeros go, except the last character ("000" is "0").
        while start != last, utf8[start] == UInt8(ascii: "0") { start = utf8.index(after: start) }
        let trimmed = utf8[start...last]
        if trimmed.allSatisfy({ !($0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z")) && $0 < 0x80 }) {
            return String(decoding: trimmed, as: UTF8.self)
        }
        return String(decoding: trimmed, as: UTF8.self).lowercased()
    }

    /// The normalised id, or nil when `raw` is longer than `maxLength` bytes (see there why).
    public static func accepted(_ raw: some StringProtocol) -> String? {
        raw.utf8.count <= maxLength ? normalize(raw) : nil
    }

    /// How a carrier's receipts quote the ids of its submit_sm_resp.
    public enum Reading: String, Sendable, CaseIterable {
        case same
        case decimalForHex  // submit_sm_resp in hex, receipt in decimal
        case hexForDecimal  // submit_sm_resp in decimal, receipt in hex

        /// The normalised stored id a receipt id stands for under this reading; nil if it cannot.
        public func storedID(_ raw: some StringProtocol) -> String? {
            let exact = normalize(raw)
            switch self {
            case .same: return exact
            case .decimalForHex:
                guard exact.allSatisfy(\.isASCIIDecimal), let n = UInt64(exact) else { return nil }
                return String(n, radix: 16)
            case .hexForDecimal:
                guard exact.allSatisfy(\.isASCIIHexDigit), let n = UInt64(exact, radix: 16) else { return nil }
                return String(n)
            }
        }
    }
}

extension Character {
    var isASCIIHexDigit: Bool { isASCII && isHexDigit }
    var isASCIIDecimal: Bool { isASCII && isWholeNumber }
}
