import Foundation

extension DeliveryReceipt {
    /// The deliver_sm body that tells an ESME what became of its message: esm_class 0x04, the usual text
    /// (`id:… sub:001 dlvrd:… submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:… err:… text:…`, dates in UTC) and
    /// the receipted_message_id and message_state TLVs. `text` is the message's start (20 characters, non-ASCII
    /// as `?`: the receipt is GSM/ASCII text in data_coding 0).
    public func deliverSm(
        handset: String,
        sender: String,
        submittedAtMs: Int64,
        doneAtMs: Int64,
        text: String
    ) -> ShortMessage {
        let head = String(text.unicodeScalars.prefix(20).map { $0.isASCII && $0.value >= 0x20 ? Character($0) : "?" })
        let body =
            "id:\(messageID) sub:001 dlvrd:\(state == .delivered ? "001" : "000") submit date:\(Self.date(submittedAtMs)) done date:\(Self.date(doneAtMs)) stat:\(state.rawValue) err:\(error.isEmpty ? "000" : error) text:\(head)"
        return ShortMessage(
            // An address longer than SMPP's 21 octets would not encode: cut, never refused.
            source: Address(ton: 1, npi: 1, address: String(handset.prefix(20))),
            destination: Address(ton: 5, npi: 0, address: String(sender.prefix(20))),
            esmClass: 0x04,
            shortMessage: Array(body.utf8),
            tlvs: [.cString(TLV.Tag.receiptedMessageID, messageID), .uint8(TLV.Tag.messageState, state.messageState)]
        )
    }

    /// YYMMDDhhmm in UTC.
    static func date(_ ms: Int64) -> String {
        var t = time_t(max(0, ms / 1000))
        var parts = tm()
        gmtime_r(&t, &parts)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v % 100)" }
        return two(parts.tm_year % 100) + two(parts.tm_mon + 1) + two(parts.tm_mday) + two(parts.tm_hour)
            + two(parts.tm_min)
    }
}

extension DeliveryReceipt.State {
    /// The message_state TLV value (§5.2.28).
    public var messageState: UInt8 {
        switch self {
        case .enroute: 1
        case .delivered: 2
        case .expired: 3
        case .deleted: 4
        case .undeliverable: 5
        case .accepted: 6
        case .unknown: 7
        case .rejected: 8
        }
    }
}
