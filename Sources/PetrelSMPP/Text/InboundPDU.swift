public import PetrelCore

/// Reads a deliver_sm or data_sm that is not a receipt as an `InboundPart`: the user data header (8- and 16-bit
/// concatenation references) or the SAR TLVs say where the part belongs. Every length and count comes from the
/// peer, so each is checked before use; a header that does not parse leaves the bytes as they came, a whole message.
public enum InboundPDU {
    /// `country`: the channel's, when set; a sender in national format is read as that country's number.
    public static func part(
        _ pdu: PDU,
        channel: String,
        nowMs: Int64,
        country: NumberingPlan.Region? = nil
    ) -> InboundPart? {
        let source: Address
        let destination: Address
        let dataCoding: UInt8
        let esmClass: UInt8
        let tlvs: [TLV]
        var bytes: [UInt8]
        switch pdu.body {
        case .deliverSm(let m):
            (source, destination, dataCoding, esmClass, tlvs) = (
                m.source, m.destination, m.dataCoding, m.esmClass, m.tlvs
            )
            bytes = m.shortMessage.isEmpty ? (m.tlvs[tag: TLV.Tag.messagePayload]?.value ?? []) : m.shortMessage
        case .dataSm(let d):
            (source, destination, dataCoding, esmClass, tlvs) = (
                d.source, d.destination, d.dataCoding, d.esmClass, d.tlvs
            )
            bytes = d.tlvs[tag: TLV.Tag.messagePayload]?.value ?? []
        default:
            return nil
        }
        var concat: InboundPart.Concat?
        if esmClass & 0x40 != 0, let (header, rest) = splitUDH(bytes) {
            concat = concatenation(in: header)
            bytes = rest
        }
        if concat == nil { concat = sar(tlvs) }
        if let c = concat, c.total < 2 || c.seq < 1 || c.seq > c.total { concat = nil }
        // A part of a message carries at most 140 octets of user data (160 septets unpacked); a bigger one (a 64 KB
        // message_payload) is a message of its own. Joined, 255 of those made one 16 MB message, and a hundred of
        // them one push of gigabytes.
        if concat != nil, bytes.count > maxPartBytes { concat = nil }
        return InboundPart(
            channel: channel,
            from: CarrierNumber.international(source.address, ton: source.ton, country: country),
            to: number(destination.address),
            dataCoding: dataCoding,
            body: bytes,
            concat: concat,
            receivedAtMs: nowMs
        )
    }

    /// The user data a part of a concatenated message may have; generous beside 160 (septets, unpacked).
    public static let maxPartBytes = 1024

    /// "+85291234567" and "85291234567" are one phone.
    static func number(_ address: String) -> String {
        address.hasPrefix("+") ? String(address.dropFirst()) : address
    }

    /// The header's information elements and the user data after it, or nil when the length octet overruns.
    static func splitUDH(_ bytes: [UInt8]) -> ([UInt8], [UInt8])? {
        guard let length = bytes.first, 1 + Int(length) <= bytes.count else { return nil }
        return (Array(bytes[1..<(1 + Int(length))]), Array(bytes[(1 + Int(length))...]))
    }

    /// IEI 0x00 (8-bit reference) or 0x08 (16-bit), walking the elements by their lengths.
    static func concatenation(in header: [UInt8]) -> InboundPart.Concat? {
        var i = 0
        while i + 1 < header.count {
            let iei = header[i]
            let length = Int(header[i + 1])
            let start = i + 2
            guard start + length <= header.count else { return nil }
            let v = header[start..<(start + length)]
            if iei == 0x00, length == 3 {
                return .init(reference: Int(v[start]), total: Int(v[start + 1]), seq: Int(v[start + 2]))
            }
            if iei == 0x08, length == 4 {
                return .init(
                    reference: Int(v[start]) << 8 | Int(v[start + 1]),
                    total: Int(v[start + 2]),
                    seq: Int(v[start + 3])
                )
            }
            i = start + length
        }
        return nil
    }

    static func sar(_ tlvs: [TLV]) -> InboundPart.Concat? {
        guard let ref = tlvs[tag: TLV.Tag.sarMsgRefNum]?.uint16Value,
            let total = tlvs[tag: TLV.Tag.sarTotalSegments]?.uint8Value,
            let seq = tlvs[tag: TLV.Tag.sarSegmentSeqnum]?.uint8Value
        else { return nil }
        return .init(reference: Int(ref), total: Int(total), seq: Int(seq))
    }
}
