/// A delivery receipt as an SMSC sends it in deliver_sm / data_sm: the `receipted_message_id` and
/// `message_state` TLVs when present, else the conventional text (SMPP 3.4 Appendix B):
/// `id:IIII sub:001 dlvrd:001 submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DELIVRD err:000 text:…`.
public struct DeliveryReceipt: Sendable, Equatable {
    public enum State: String, Sendable, Equatable {
        case enroute = "ENROUTE"
        case delivered = "DELIVRD"
        case expired = "EXPIRED"
        case deleted = "DELETED"
        case undeliverable = "UNDELIV"
        case accepted = "ACCEPTD"
        case unknown = "UNKNOWN"
        case rejected = "REJECTD"

        /// message_state TLV values (§5.2.28).
        init?(messageState: UInt8) {
            switch messageState {
            case 1: self = .enroute
            case 2: self = .delivered
            case 3: self = .expired
            case 4: self = .deleted
            case 5: self = .undeliverable
            case 6: self = .accepted
            case 7: self = .unknown
            case 8: self = .rejected
            default: return nil
            }
        }

        /// Whether the carrier is done with the message.
        public var isFinal: Bool { self != .enroute && self != .accepted }
    }

    public var messageID: String
    public var state: State
    /// The `err:` field or network_error_code, as text; empty when none.
    public var error: String

    public init(messageID: String, state: State, error: String = "") {
        self.messageID = messageID
        self.state = state
        self.error = error
    }

    /// Reads a receipt from a deliver_sm / data_sm body; nil when it is not a receipt or names no message.
    public static func parse(tlvs: [TLV], text: [UInt8]) -> DeliveryReceipt? {
        let fields = Self.fields(text)
        let id = tlvs[tag: TLV.Tag.receiptedMessageID]?.stringValue ?? fields["id"] ?? ""
        guard !id.isEmpty else { return nil }
        var state = tlvs[tag: TLV.Tag.messageState]?.uint8Value.flatMap(State.init(messageState:))
        if state == nil, let stat = fields["stat"]?.uppercased() {
            state =
                State(rawValue: stat)
                ?? (stat.hasPrefix("DELIV") ? .delivered : stat.hasPrefix("UNDEL") ? .undeliverable : .unknown)
        }
        var error = fields["err"] ?? ""
        if let net = tlvs[tag: TLV.Tag.networkErrorCode], net.value.count == 3 {
            error = "\(net.value[0]):\(Int(net.value[1]) << 8 | Int(net.value[2]))"
        }
        return DeliveryReceipt(messageID: id, state: state ?? .unknown, error: error)
    }

    /// `key:value` pairs of a receipt text; keys lower-cased, `submit date` and `done date` kept whole.
    /// A key counts at the start of the text or after a space, first occurrence only; a value runs to the next
    /// key (the first word of it, except for `text`). One pass over the bytes: this runs once per receipt.
    static func fields(_ text: [UInt8]) -> [String: String] {
        var found: [(key: Int, keyStart: Int, valueStart: Int)] = []
        var seen = [Bool](repeating: false, count: receiptKeys.count)
        var i = 0
        while i < text.count {
            if i == 0 || text[i - 1] == 0x20,
                let k = receiptKeys.indices.first(where: { !seen[$0] && text.hasKey(receiptKeys[$0].bytes, at: i) })
            {
                seen[k] = true
                found.append((k, i, i + receiptKeys[k].bytes.count))
                i += receiptKeys[k].bytes.count
                continue
            }
            i += 1
        }
        var result: [String: String] = [:]
        for (n, f) in found.enumerated() {
            var end = n + 1 < found.count ? found[n + 1].keyStart : text.count
            while end > f.valueStart, text[end - 1] == 0x20 { end -= 1 }
            var value = text[f.valueStart..<max(end, f.valueStart)]
            let name = receiptKeys[f.key].name
            if name != "text", let space = value.firstIndex(of: 0x20) { value = value[..<space] }
            result[name] = String(decoding: value, as: UTF8.self)
        }
        return result
    }

    private static let receiptKeys: [(name: String, bytes: [UInt8])] =
        ["id", "sub", "dlvrd", "submit date", "done date", "stat", "err", "text"].map { ($0, Array(($0 + ":").utf8)) }
}

extension [UInt8] {
    /// Whether `key` (lower-case ASCII) appears at `offset`, ignoring ASCII case.
    fileprivate func hasKey(_ key: [UInt8], at offset: Int) -> Bool {
        guard offset + key.count <= count else { return false }
        for j in 0..<key.count {
            let b = self[offset + j]
            let lower = b >= 0x41 && b <= 0x5A ? b | 0x20 : b
            if lower != key[j] { return false }
        }
        return true
    }
}
