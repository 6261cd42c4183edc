import PetrelCore

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
    public var index: Int  // 1-based
    public var total: Int
    public var dataCoding: UInt8
    public var esmClass: UInt8
    public var shortMessage: [UInt8]
    public var tlvs: [TLV]
}

public enum MessageParts {
    /// Why a text cannot travel in the channel's long-message mode. The message fails with `code` (another
    /// channel of its route, in another mode, may still take it); it never traps or stays claimed.
    public struct Problem: Error, Sendable, Equatable {
        public static let code = "MESSAGE_TOO_LONG"
        public var description: String
    }

    /// The most bytes one message_payload carries: the TLV's length field is 16 bits, and the whole submit_sm
    /// (header, addresses and the other fields, well under 1 KiB) must stay within the `PDU.maxLength` that
    /// SMSCs, ours included, accept.
    public static let maxPayloadBytes = PDU.maxLength - 1024

    /// Splits `text` into the submit_sm bodies it needs: GSM 03.38 (data_coding 0, one septet per octet) when
    /// every character fits, else UCS-2 big-endian (data_coding 8). `reference` ties the parts together.
    /// Throws when the text needs more than 255 parts (one octet counts them in the UDH and in
    /// sar_total_segments) or, in payload mode, more than `maxPayloadBytes`.
    public static func make(_ text: String, mode: LongMessageMode, reference: UInt16) throws(Problem) -> [MessagePart] {
        let sms = SMSText(text)
        let dataCoding: UInt8 = sms.encoding == .gsm7 ? 0x00 : 0x08
        func bytes(_ s: Substring) -> [UInt8] {
            switch sms.encoding {
            case .gsm7: return GSM0338.encode(s) ?? []
            case .ucs2: return s.utf16.flatMap { [UInt8(truncatingIfNeeded: $0 >> 8), UInt8(truncatingIfNeeded: $0)] }
            }
        }
        if sms.parts.count == 1 {
            return [
                MessagePart(
                    index: 1,
                    total: 1,
                    dataCoding: dataCoding,
                    esmClass: 0,
                    shortMessage: bytes(sms.parts[0]),
                    tlvs: []
                )
            ]
        }
        if mode == .payload {
            // Septets are one byte each unpacked, UCS-2 code units two.
            let size = sms.encoding == .gsm7 ? sms.units : sms.units * 2
            guard size <= maxPayloadBytes else {
                throw Problem(
                    description:
                        "The text is \(size) bytes encoded; one message_payload carries at most \(maxPayloadBytes)."
                )
            }
            return [
                MessagePart(
                    index: 1,
                    total: 1,
                    dataCoding: dataCoding,
                    esmClass: 0,
                    shortMessage: [],
                    tlvs: [TLV(tag: TLV.Tag.messagePayload, value: bytes(text[...]))]
                )
            ]
        }
        guard sms.parts.count <= SMSText.maxParts, let total = UInt8(exactly: sms.parts.count) else {
            throw Problem(
                description:
                    "The text needs \(sms.parts.count) parts; a concatenated message has at most \(SMSText.maxParts)."
            )
        }
        return sms.parts.enumerated().map { i, part in
            // i < 255 (checked above), so the sequence number fits its octet.
            let seq = UInt8(truncatingIfNeeded: i + 1)
            switch mode {
            case .sar:
                return MessagePart(
                    index: i + 1,
                    total: Int(total),
                    dataCoding: dataCoding,
                    esmClass: 0,
                    shortMessage: bytes(part),
                    tlvs: [
                        .uint16(TLV.Tag.sarMsgRefNum, reference), .uint8(TLV.Tag.sarTotalSegments, total),
                        .uint8(TLV.Tag.sarSegmentSeqnum, seq),
                    ]
                )
            case .udh, .payload:
                let header: [UInt8] = [0x05, 0x00, 0x03, UInt8(truncatingIfNeeded: reference), total, seq]
                return MessagePart(
                    index: i + 1,
                    total: Int(total),
                    dataCoding: dataCoding,
                    esmClass: 0x40,
                    shortMessage: header + bytes(part),
                    tlvs: []
                )
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
