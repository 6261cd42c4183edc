/// Reads an inbound message's user data by its SMPP data_coding (SMPP 3.4 §5.2.19, GSM 03.38 §4). What cannot be
/// read is kept as hex, never dropped.
public enum InboundText {
    public static func decode(_ bytes: [UInt8], dataCoding: UInt8) -> (text: String, encoding: String) {
        let (text, encoding) = read(bytes, dataCoding: dataCoding)
        // A NUL is nothing a phone types, and PostgreSQL's text cannot hold one: storing it failed the whole batch,
        // and the carrier's resends failed every batch after. Such bytes are kept as hex.
        return text.unicodeScalars.contains("\0") ? hex(bytes) : (text, encoding)
    }

    static func read(_ bytes: [UInt8], dataCoding: UInt8) -> (String, String) {
        switch dataCoding {
        case 0x00: return gsm7(bytes)
        case 0x01:
            return bytes.allSatisfy({ $0 < 0x80 }) ? (String(decoding: bytes, as: UTF8.self), "ascii") : hex(bytes)
        case 0x03: return (String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) })), "latin1")
        case 0x08: return ucs2(bytes)
        case 0xF0...0xFF:
            // Data coding / message class group: bit 2 clear is the GSM alphabet, set is 8-bit data.
            return dataCoding & 0x04 == 0 ? gsm7(bytes) : hex(bytes)
        default: return hex(bytes)
        }
    }

    /// Unpacked septets, one per octet (as SMPP carries them): an octet above 0x7F is not a septet.
    static func gsm7(_ bytes: [UInt8]) -> (String, String) {
        bytes.allSatisfy({ $0 < 0x80 }) ? (GSM0338.decode(bytes), "gsm7") : hex(bytes)
    }

    /// UTF-16 big-endian (UCS-2 and the surrogate pairs phones send for emoji); an odd length or a lone surrogate
    /// is not text.
    static func ucs2(_ bytes: [UInt8]) -> (String, String) {
        guard bytes.count % 2 == 0 else { return hex(bytes) }
        var units: [UInt16] = []
        units.reserveCapacity(bytes.count / 2)
        var i = 0
        while i + 1 < bytes.count {
            units.append(UInt16(bytes[i]) << 8 | UInt16(bytes[i + 1]))
            i += 2
        }
        var scalars = String.UnicodeScalarView()
        var decoder = UTF16()
        var iterator = units.makeIterator()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let s): scalars.append(s)
            case .emptyInput: return (String(scalars), "ucs2")
            case .error: return hex(bytes)
            }
        }
    }

    public static func hex(_ bytes: [UInt8]) -> (String, String) {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0F)])
        }
        return (String(decoding: out, as: UTF8.self), "hex")
    }

    /// One message from its parts: in sequence order, each sequence number once, the bytes joined before decoding (a
    /// UCS-2 surrogate pair or a GSM escape may straddle two parts). Parts whose data_coding differs from the first
    /// are decoded on their own and appended. `incomplete` when fewer parts than the total came.
    public static func assemble(_ parts: [InboundPart]) -> (text: String, encoding: String, incomplete: Bool) {
        var seen = Set<Int>()
        let ordered = parts.sorted { ($0.concat?.seq ?? 0) < ($1.concat?.seq ?? 0) }.filter {
            seen.insert($0.concat?.seq ?? 0).inserted
        }
        guard let first = ordered.first else { return ("", "gsm7", true) }
        let total = first.concat?.total ?? 1
        let incomplete = ordered.count < total
        if ordered.allSatisfy({ $0.dataCoding == first.dataCoding }) {
            let (text, encoding) = decode(ordered.flatMap(\.body), dataCoding: first.dataCoding)
            return (text, encoding, incomplete)
        }
        var text = ""
        var encodings = Set<String>()
        for p in ordered {
            let (t, e) = decode(p.body, dataCoding: p.dataCoding)
            text += t
            encodings.insert(e)
        }
        return (text, encodings.count == 1 ? encodings.first ?? "hex" : "mixed", incomplete)
    }
}
