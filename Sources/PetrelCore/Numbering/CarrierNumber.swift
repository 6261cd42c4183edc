/// A phone number as a carrier wrote it in an inbound message, read as the international digits Petrel keys every
/// list by (opt-out, conversations, limits). Many SMSCs give the sender of an MO in national format: TON 2
/// (national) "0912345678" or "91234567", or TON 0 (unknown) with the trunk prefix "0" or the international prefix
/// "00". A STOP from such a number would otherwise never match the international number it opts out. Only a
/// channel whose `country` is set is read this way: without it, a national number cannot be told from an
/// international one.
public enum CarrierNumber {
    public static func international(_ address: String, ton: UInt8, country: NumberingPlan.Region?) -> String {
        if address.hasPrefix("+") { return String(address.dropFirst()) }
        guard let country, ton == 0 || ton == 2, address.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            return address
        }
        if address.hasPrefix("00") { return ton == 0 ? String(address.dropFirst(2)) : address }
        if ton == 2 {
            let national = address.hasPrefix("0") ? String(address.dropFirst()) : address
            return national.isEmpty ? address : "\(country.callingCode)\(national)"
        }
        // TON 0: a single leading "0" is the trunk prefix; digits without it may already be international.
        guard address.hasPrefix("0"), address.count > 1 else { return address }
        return "\(country.callingCode)\(address.dropFirst())"
    }
}
