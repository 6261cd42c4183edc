/// Carrier message ids as SMSCs write them. Many answer submit_sm in one form and quote the id in receipts in
/// another (hex vs decimal, with or without leading zeros, upper or lower case), so ids are stored normalised
/// and a receipt is matched exactly first, then through the other reading.
public enum CarrierID {
    /// Lower-case, no surrounding spaces, no leading zeros.
    public static func normalize(_ raw: some StringProtocol) -> String {
        var s = Substring(raw.lowercased())
        while let f = s.first, f == " " { s.removeFirst() }
        while let l = s.last, l == " " { s.removeLast() }
        while s.count > 1, s.first == "0" { s.removeFirst() }
        return String(s)
    }

    /// The normalised forms a receipt's id may have been stored under, most likely first.
    public static func candidates(_ raw: some StringProtocol) -> [String] {
        let exact = normalize(raw)
        var result = [exact]
        if !exact.isEmpty, exact.allSatisfy(\.isASCIIHexDigit) {
            if exact.allSatisfy(\.isASCIIDecimal), let n = UInt64(exact) {
                result.append(String(n, radix: 16))              // receipt decimal, submit_sm_resp hex
            }
            if let n = UInt64(exact, radix: 16) {
                result.append(String(n))                         // receipt hex, submit_sm_resp decimal
            }
        }
        var seen = Set<String>()
        return result.filter { seen.insert($0).inserted }
    }
}

extension Character {
    var isASCIIHexDigit: Bool { isASCII && isHexDigit }
    var isASCIIDecimal: Bool { isASCII && isWholeNumber }
}
