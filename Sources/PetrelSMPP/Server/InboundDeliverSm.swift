import PetrelCore

public enum InboundDeliverSm {
    /// The deliver_sm bodies that bring an inbound message (MO) to an ESME: esm_class 0 (0x40 with a user data
    /// header), source the phone, destination the number it wrote to, data_coding 0 (GSM 03.38, one septet per
    /// octet) when every character fits, else 8 (UCS-2). A text longer than one SMS is split into parts that carry
    /// a concatenation UDH with `reference`. At most `maxParts` parts (and never more than 255): a longer text is
    /// cut at a part's end, never refused, so a bind with a window of N always has room for the whole message.
    public static func make(
        from: String,
        to: String,
        text: String,
        reference: UInt8,
        maxParts: Int
    )
        -> [ShortMessage]
    {
        let cap = max(1, min(maxParts, SMSText.maxParts))
        var body = text
        let sms = SMSText(text)
        if sms.parts.count > cap { body = sms.parts.prefix(cap).joined() }
        // Within 255 parts, so make never throws; an empty list stays possible only in theory.
        let parts = (try? MessageParts.make(body, mode: .udh, reference: UInt16(reference))) ?? []
        return parts.map { p in
            ShortMessage(
                // An address longer than SMPP's 21 octets would not encode: cut, never refused.
                source: address(from),
                destination: address(to),
                esmClass: p.esmClass,
                dataCoding: p.dataCoding,
                shortMessage: p.shortMessage
            )
        }
    }

    /// A number (digits, an optional leading +) is international E.164; anything else alphanumeric.
    static func address(_ s: String) -> Address {
        let cut = String(s.utf8.prefix(20).map { Character(Unicode.Scalar($0)) }.filter(\.isASCII))
        let digits = cut.hasPrefix("+") ? String(cut.dropFirst()) : cut
        if !digits.isEmpty, digits.allSatisfy(\.isNumber) { return Address(ton: 1, npi: 1, address: digits) }
        return Address(ton: 5, npi: 0, address: cut)
    }
}
