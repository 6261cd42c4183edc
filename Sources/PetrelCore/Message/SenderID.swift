/// A sender ID (`From`): digits and letters only; at most 11 characters with a letter, 15 if all digits.
public enum SenderID {
    public static func isValid(_ value: some StringProtocol) -> Bool {
        guard !value.isEmpty else { return false }
        var hasLetter = false
        var count = 0
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): break
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"): hasLetter = true
            default: return false
            }
            count += 1
        }
        return count <= (hasLetter ? 11 : 15)
    }
}
