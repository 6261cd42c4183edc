/// The value of a run of ASCII decimal digits (no sign, no spaces), at most `maxDigits` of them; nil for anything
/// else. Used where bytes are parsed without making a `String` first (carrier prefixes, Content-Length).
@inlinable
public func decimalValue(_ digits: some Collection<UInt8>, maxDigits: Int) -> Int? {
    guard !digits.isEmpty, digits.count <= maxDigits else { return nil }
    var v = 0
    for b in digits {
        guard b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") else { return nil }
        v = v * 10 + Int(b - UInt8(ascii: "0"))
    }
    return v
}
