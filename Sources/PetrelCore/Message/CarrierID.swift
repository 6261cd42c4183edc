/// Carrier message ids as SMSCs write them. Many answer submit_sm in one form and quote the id in receipts in
/// another (hex vs decimal, with or without leading zeros, upper or lower case), so ids are stored normalised
/// and a receipt is matched through the reading its carrier is known (or found) to use.
public enum CarrierID {
    /// Lower-case, no surrounding spaces, no leading zeros.
    public static func normalize(_ raw: some StringProtocol) -> String {
        var s = Substring(raw.lowercased())
        while let f = s.first, f == " " { s.removeFirst() }
        while let l = s.last, l == " " { s.removeLast() }
        while s.count > 1, s.first == "0" { s.removeFirst() }
        return String(s)
    }

    /// How a carrier's receipts quote the ids of its submit_sm_resp.
    public enum Reading: String, Sendable, CaseIterable {
        case same
        case decimalForHex      // submit_sm_resp in hex, receipt in decimal
        case hexForDecimal      // submit_sm_resp in decimal, receipt in hex

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
