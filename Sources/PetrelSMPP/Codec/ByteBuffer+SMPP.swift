import NIOCore

/// Why a PDU could not be written: a field longer than its length field allows, or the whole PDU too long.
public struct SMPPEncodingError: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
}

/// Why a PDU body could not be read; the sender gets a generic_nack (or an error response) with `status`.
public struct SMPPBodyError: Error, Sendable, Equatable {
    public var status: CommandStatus
    public var reason: String
}

extension ByteBuffer {
    /// A C-Octet String of at most `max` bytes including its NUL terminator.
    mutating func readCString(max: Int, field: String) throws(SMPPBodyError) -> String {
        let view = readableBytesView
        guard let nul = view.prefix(max).firstIndex(of: 0) else {
            throw SMPPBodyError(
                status: .invalidCommandLength,
                reason: "\(field) is not a C string of at most \(max) bytes"
            )
        }
        let length = nul - view.startIndex
        let bytes = view.prefix(length)
        let s: String
        if bytes.allSatisfy({ $0 < 0x80 }) {
            s = readString(length: length) ?? ""
        } else {
            // C-Octet Strings are ASCII by the spec; other bytes are read as ISO-8859-1 so that every byte
            // survives a decode and re-encode unchanged (UTF-8 decoding would replace invalid bytes).
            s = String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
            moveReaderIndex(forwardBy: length)
        }
        moveReaderIndex(forwardBy: 1)
        return s
    }

    /// Writes ASCII as is and other characters as ISO-8859-1 (the inverse of `readCString`); characters beyond
    /// U+00FF become "?".
    mutating func writeCString(_ s: String) {
        if s.utf8.allSatisfy({ $0 < 0x80 }) {
            writeString(s)
        } else {
            for scalar in s.unicodeScalars { writeInteger(UInt8(exactly: scalar.value) ?? UInt8(ascii: "?")) }
        }
        writeInteger(UInt8(0))
    }

    mutating func readByte(_ field: String) throws(SMPPBodyError) -> UInt8 {
        guard let b = readInteger(as: UInt8.self) else {
            throw SMPPBodyError(status: .invalidCommandLength, reason: "the PDU ends before \(field)")
        }
        return b
    }

    mutating func readAddress(_ field: String) throws(SMPPBodyError) -> Address {
        let ton = try readByte("\(field)_ton")
        let npi = try readByte("\(field)_npi")
        let address = try readCString(max: 21, field: "\(field)_addr")
        return Address(ton: ton, npi: npi, address: address)
    }

    mutating func writeAddress(_ a: Address) {
        writeInteger(a.ton)
        writeInteger(a.npi)
        writeCString(a.address)
    }

    /// The optional parameters that fill the rest of the body.
    mutating func readTLVs() throws(SMPPBodyError) -> [TLV] {
        var tlvs: [TLV] = []
        while readableBytes > 0 {
            guard let (tag, length) = readMultipleIntegers(endianness: .big, as: (UInt16, UInt16).self) else {
                throw SMPPBodyError(status: .invalidOptionalParameter, reason: "a truncated optional parameter header")
            }
            guard let value = readBytes(length: Int(length)) else {
                throw SMPPBodyError(
                    status: .invalidOptionalParameter,
                    reason: "optional parameter 0x\(String(tag, radix: 16)) is longer than the PDU"
                )
            }
            tlvs.append(TLV(tag: tag, value: value))
        }
        return tlvs
    }

    mutating func writeTLVs(_ tlvs: [TLV]) throws(SMPPEncodingError) {
        for t in tlvs {
            guard let length = UInt16(exactly: t.value.count) else {
                throw SMPPEncodingError(
                    reason:
                        "optional parameter 0x\(String(t.tag, radix: 16)) is \(t.value.count) bytes; at most 65535 fit its length"
                )
            }
            writeMultipleIntegers(t.tag, length, endianness: .big)
            writeBytes(t.value)
        }
    }
}
