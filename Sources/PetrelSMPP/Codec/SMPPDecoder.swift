public import NIOCore

/// What the decoder read: a PDU, or a well-framed PDU whose body was wrong (answer it with a nack and go on).
public enum SMPPFrame: Sendable, Equatable {
    case pdu(PDU)
    case malformed(commandID: UInt32, sequence: UInt32, error: SMPPBodyError)
}

/// The stream is unusable: a command_length that cannot be right. The connection must close.
public struct SMPPFramingError: Error, Sendable, Equatable {
    public var commandLength: UInt32
}

/// Frames SMPP PDUs (command_length counts itself) and decodes them.
public struct SMPPDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = SMPPFrame

    public init() {}

    public mutating func decode(buffer: inout ByteBuffer) throws -> SMPPFrame? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: UInt32.self) else {
            return nil
        }
        guard length >= PDU.headerLength, length <= PDU.maxLength else { throw SMPPFramingError(commandLength: length) }
        guard buffer.readableBytes >= Int(length) else { return nil }
        guard
            let (_, commandID, status, sequence) = buffer.readMultipleIntegers(
                endianness: .big,
                as: (UInt32, UInt32, UInt32, UInt32).self
            ),
            var body = buffer.readSlice(length: Int(length) - PDU.headerLength)
        else { return nil }  // cannot happen: readableBytes >= length >= 16 was checked above
        do {
            return .pdu(
                try PDU.decode(
                    commandID: commandID,
                    status: CommandStatus(rawValue: status),
                    sequence: sequence,
                    body: &body
                )
            )
        } catch {
            return .malformed(commandID: commandID, sequence: sequence, error: error)
        }
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> SMPPFrame? {
        try decode(buffer: &buffer)
    }
}
