/// An optional parameter (tag, length, value). Unknown tags are kept as they came.
public struct TLV: Sendable, Equatable {
    public var tag: UInt16
    public var value: [UInt8]

    public init(tag: UInt16, value: [UInt8]) {
        self.tag = tag
        self.value = value
    }

    public enum Tag {
        public static let receiptedMessageID: UInt16 = 0x001E
        public static let sarMsgRefNum: UInt16 = 0x020C
        public static let sarTotalSegments: UInt16 = 0x020E
        public static let sarSegmentSeqnum: UInt16 = 0x020F
        public static let networkErrorCode: UInt16 = 0x0423
        public static let messagePayload: UInt16 = 0x0424
        public static let messageState: UInt16 = 0x0427
        public static let scInterfaceVersion: UInt16 = 0x0210
    }

    public static func cString(_ tag: UInt16, _ s: String) -> TLV { TLV(tag: tag, value: Array(s.utf8) + [0]) }
    public static func uint8(_ tag: UInt16, _ v: UInt8) -> TLV { TLV(tag: tag, value: [v]) }
    public static func uint16(_ tag: UInt16, _ v: UInt16) -> TLV {
        TLV(tag: tag, value: [UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v)])
    }

    /// The value read as a C-Octet string (a missing terminator is tolerated).
    public var stringValue: String {
        let end = value.firstIndex(of: 0) ?? value.endIndex
        return String(decoding: value[..<end], as: UTF8.self)
    }

    public var uint8Value: UInt8? { value.count == 1 ? value[0] : nil }
    public var uint16Value: UInt16? { value.count == 2 ? UInt16(value[0]) << 8 | UInt16(value[1]) : nil }
}

extension Array where Element == TLV {
    public subscript(tag tag: UInt16) -> TLV? { first { $0.tag == tag } }
}
