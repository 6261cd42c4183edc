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
        let fields = Self.fields(String(decoding: text, as: UTF8.self))
        let id = tlvs[tag: TLV.Tag.receiptedMessageID]?.stringValue ?? fields["id"] ?? ""
        guard !id.isEmpty else { return nil }
        var state = tlvs[tag: TLV.Tag.messageState]?.uint8Value.flatMap(State.init(messageState:))
        if state == nil, let stat = fields["stat"]?.uppercased() {
            state = State(rawValue: stat) ?? (stat.hasPrefix("DELIV") ? .delivered : stat.hasPrefix("UNDEL") ? .undeliverable : .unknown)
        }
        var error = fields["err"] ?? ""
        if let net = tlvs[tag: TLV.Tag.networkErrorCode], net.value.count == 3 {
            error = "\(net.value[0]):\(Int(net.value[1]) << 8 | Int(net.value[2]))"
        }
        return DeliveryReceipt(messageID: id, state: state ?? .unknown, error: error)
    }

    /// `key:value` pairs of a receipt text; keys lower-cased, `submit date` and `done date` kept whole.
    static func fields(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        let lower = text.lowercased()
        let keys = ["id", "sub", "dlvrd", "submit date", "done date", "stat", "err", "text"]
        var positions: [(key: String, valueStart: String.Index, keyStart: String.Index)] = []
        for key in keys {
            var search = lower.startIndex
            while let r = lower[search...].firstRange(of: key + ":") {
                let atBoundary = r.lowerBound == lower.startIndex || lower[lower.index(before: r.lowerBound)] == " "
                if atBoundary {
                    positions.append((key, r.upperBound, r.lowerBound))
                    break
                }
                search = r.upperBound
            }
        }
        positions.sort { $0.keyStart < $1.keyStart }
        for (i, p) in positions.enumerated() {
            let end = i + 1 < positions.count ? positions[i + 1].keyStart : text.endIndex
            var value = text[p.valueStart..<end]
            while value.last == " " { value = value.dropLast() }
            result[p.key] = p.key == "text" ? String(value) : String(value.split(separator: " ").first ?? "")
        }
        return result
    }
}
