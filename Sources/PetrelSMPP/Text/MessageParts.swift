public import PetrelCore

/// How a text longer than one SMS travels (the channel's `longMessages` setting).
public enum LongMessageMode: String, Sendable, CaseIterable {
    /// Concatenation user data header in each part (esm_class 0x40).
    case udh
    /// sar_msg_ref_num / sar_total_segments / sar_segment_seqnum TLVs.
    case sar
    /// The whole text in one message_payload TLV; the SMSC splits it.
    case payload
}

/// One submit_sm's worth of a message.
public struct MessagePart: Sendable, Equatable {
    public var index: Int            // 1-based
    public var total: Int
    public var dataCoding: UInt8
    public var esmClass: UInt8
    public var shortMessage: [UInt8]
    public var tlvs: [TLV]
}

public enum MessageParts {
    /// Splits `text` into the submit_sm bodies it needs: GSM 03.38 (data_coding 0, one septet per octet) when
    /// every character fits, else UCS-2 big-endian (data_coding 8). `reference` ties the parts together.
    public static func make(_ text: String, mode: LongMessageMode, reference: UInt16) -> [MessagePart] {
        let sms = SMSText(text)
        let dataCoding: UInt8 = sms.encoding == .gsm7 ? 0x00 : 0x08
        func bytes(_ s: Substring) -> [UInt8] {
            switch sms.encoding {
            case .gsm7: return GSM0338.encode(s) ?? []
            case .ucs2: return s.utf16.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
            }
        }
        if sms.parts.count == 1 {
            return [MessagePart(index: 1, total: 1, dataCoding: dataCoding, esmClass: 0, shortMessage: bytes(sms.parts[0]), tlvs: [])]
        }
        switch mode {
        case .payload:
            return [MessagePart(
                index: 1, total: 1, dataCoding: dataCoding, esmClass: 0, shortMessage: [],
                tlvs: [TLV(tag: TLV.Tag.messagePayload, value: bytes(text[...]))])]
        case .udh:
            let total = UInt8(min(sms.parts.count, 255))
            return sms.parts.prefix(255).enumerated().map { i, part in
                let header: [UInt8] = [0x05, 0x00, 0x03, UInt8(reference & 0xFF), total, UInt8(i + 1)]
                return MessagePart(
                    index: i + 1, total: Int(total), dataCoding: dataCoding, esmClass: 0x40, shortMessage: header + bytes(part),
                    tlvs: [])
            }
        case .sar:
            let total = UInt8(min(sms.parts.count, 255))
            return sms.parts.prefix(255).enumerated().map { i, part in
                MessagePart(
                    index: i + 1, total: Int(total), dataCoding: dataCoding, esmClass: 0, shortMessage: bytes(part),
                    tlvs: [
                        .uint16(TLV.Tag.sarMsgRefNum, reference), .uint8(TLV.Tag.sarTotalSegments, total),
                        .uint8(TLV.Tag.sarSegmentSeqnum, UInt8(i + 1)),
                    ])
            }
        }
    }

    /// SMPP relative time (`YYMMDDhhmmss000R`) for a validity of `seconds` from now, at most 99 days.
    public static func relativeValidity(seconds: Int64) -> String {
        var s = max(1, min(seconds, 99 * 86_400))
        let days = s / 86_400
        s %= 86_400
        func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "0000" + two(days) + two(s / 3600) + two(s % 3600 / 60) + two(s % 60) + "000R"
    }
}
