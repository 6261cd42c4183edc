public import NIOCore

extension PDU {
    /// The largest PDU either side accepts; anything claiming more is a broken or hostile stream.
    public static let maxLength = 64 * 1024
    public static let headerLength = 16

    /// Appends the whole PDU, header included. Throws, and appends nothing, when a field is too long for its
    /// length field (short_message over 254 bytes, an optional parameter over 65,535) or the PDU would exceed
    /// `maxLength`: lengths come from texts and peers, so they are checked, never trusted to fit.
    public func encode(into out: inout ByteBuffer) throws(SMPPEncodingError) {
        let start = out.writerIndex
        do throws(SMPPEncodingError) {
            try write(into: &out)
        } catch {
            out.moveWriterIndex(to: start)
            throw error
        }
        let length = out.writerIndex - start
        guard length <= Self.maxLength else {
            out.moveWriterIndex(to: start)
            throw SMPPEncodingError(reason: "\(commandID) would be \(length) bytes; at most \(Self.maxLength) are sent")
        }
        out.setInteger(UInt32(truncatingIfNeeded: length), at: start, endianness: .big)
    }

    private func write(into out: inout ByteBuffer) throws(SMPPEncodingError) {
        out.writeMultipleIntegers(UInt32(0), commandID.rawValue, status.rawValue, sequence, endianness: .big)
        switch body {
        case .bind(let b):
            out.writeCString(b.systemID)
            out.writeCString(b.password)
            out.writeCString(b.systemType)
            out.writeInteger(b.interfaceVersion)
            out.writeAddress(b.addressRange)
        case .bindResp(let r):
            out.writeCString(r.systemID)
            try out.writeTLVs(r.tlvs)
        case .submitSm(let m), .deliverSm(let m):
            out.writeCString(m.serviceType)
            out.writeAddress(m.source)
            out.writeAddress(m.destination)
            out.writeMultipleIntegers(m.esmClass, m.protocolID, m.priority)
            out.writeCString(m.scheduleDeliveryTime)
            out.writeCString(m.validityPeriod)
            out.writeMultipleIntegers(m.registeredDelivery, m.replaceIfPresent, m.dataCoding, m.defaultMessageID)
            guard let length = UInt8(exactly: m.shortMessage.count), length <= 254 else {
                throw SMPPEncodingError(
                    reason: "short_message is \(m.shortMessage.count) bytes; at most 254 fit sm_length"
                )
            }
            out.writeInteger(length)
            out.writeBytes(m.shortMessage)
            try out.writeTLVs(m.tlvs)
        case .submitSmResp(let id), .deliverSmResp(let id):
            // A negative response may carry no body at all (§4.4.2): we always send the id field.
            out.writeCString(id)
        case .dataSm(let d):
            out.writeCString(d.serviceType)
            out.writeAddress(d.source)
            out.writeAddress(d.destination)
            out.writeMultipleIntegers(d.esmClass, d.registeredDelivery, d.dataCoding)
            try out.writeTLVs(d.tlvs)
        case .dataSmResp(let id, let tlvs):
            out.writeCString(id)
            try out.writeTLVs(tlvs)
        case .unbind, .unbindResp, .enquireLink, .enquireLinkResp, .genericNack:
            break
        }
    }

    public var encoded: ByteBuffer {
        get throws(SMPPEncodingError) {
            var b = ByteBuffer()
            try encode(into: &b)
            return b
        }
    }

    /// Reads a body whose header has been read; `body` holds exactly command_length - 16 bytes.
    public static func decode(
        commandID raw: UInt32,
        status: CommandStatus,
        sequence: UInt32,
        body: inout ByteBuffer
    ) throws(SMPPBodyError) -> PDU {
        guard let command = CommandID(rawValue: raw) else {
            throw SMPPBodyError(status: .invalidCommandID, reason: "unknown command id 0x\(String(raw, radix: 16))")
        }
        let decoded: Body
        switch command {
        case .bindTransmitter, .bindReceiver, .bindTransceiver:
            let mode: BindMode =
                command == .bindTransmitter ? .transmitter : command == .bindReceiver ? .receiver : .transceiver
            decoded = .bind(
                Bind(
                    mode: mode,
                    systemID: try body.readCString(max: 16, field: "system_id"),
                    password: try body.readCString(max: 9, field: "password"),
                    systemType: try body.readCString(max: 13, field: "system_type"),
                    interfaceVersion: try body.readByte("interface_version"),
                    addressRange: try body.readAddress("addr")
                )
            )
        case .bindTransmitterResp, .bindReceiverResp, .bindTransceiverResp:
            let mode: BindMode =
                command == .bindTransmitterResp ? .transmitter : command == .bindReceiverResp ? .receiver : .transceiver
            // An error response may have an empty body.
            let systemID = body.readableBytes == 0 ? "" : try body.readCString(max: 16, field: "system_id")
            decoded = .bindResp(BindResp(mode: mode, systemID: systemID, tlvs: try body.readTLVs()))
        case .submitSm, .deliverSm:
            let m = try readShortMessage(&body)
            decoded = command == .submitSm ? .submitSm(m) : .deliverSm(m)
        case .submitSmResp, .deliverSmResp:
            let id = body.readableBytes == 0 ? "" : try body.readCString(max: 65, field: "message_id")
            decoded = command == .submitSmResp ? .submitSmResp(messageID: id) : .deliverSmResp(messageID: id)
        case .dataSm:
            decoded = .dataSm(
                DataSm(
                    serviceType: try body.readCString(max: 6, field: "service_type"),
                    source: try body.readAddress("source"),
                    destination: try body.readAddress("dest"),
                    esmClass: try body.readByte("esm_class"),
                    registeredDelivery: try body.readByte("registered_delivery"),
                    dataCoding: try body.readByte("data_coding"),
                    tlvs: try body.readTLVs()
                )
            )
        case .dataSmResp:
            let id = body.readableBytes == 0 ? "" : try body.readCString(max: 65, field: "message_id")
            decoded = .dataSmResp(messageID: id, tlvs: try body.readTLVs())
        case .unbind: decoded = .unbind
        case .unbindResp: decoded = .unbindResp
        case .enquireLink: decoded = .enquireLink
        case .enquireLinkResp: decoded = .enquireLinkResp
        case .genericNack: decoded = .genericNack
        }
        if body.readableBytes > 0 {
            switch command {
            case .unbind, .unbindResp, .enquireLink, .enquireLinkResp, .genericNack:
                throw SMPPBodyError(status: .invalidCommandLength, reason: "\(command) must have no body")
            default: break  // TLV-bearing bodies consume everything; nothing else can remain
            }
        }
        return PDU(decoded, sequence: sequence, status: status)
    }

    static func readShortMessage(_ body: inout ByteBuffer) throws(SMPPBodyError) -> ShortMessage {
        var m = ShortMessage()
        m.serviceType = try body.readCString(max: 6, field: "service_type")
        m.source = try body.readAddress("source")
        m.destination = try body.readAddress("dest")
        m.esmClass = try body.readByte("esm_class")
        m.protocolID = try body.readByte("protocol_id")
        m.priority = try body.readByte("priority_flag")
        m.scheduleDeliveryTime = try body.readCString(max: 17, field: "schedule_delivery_time")
        m.validityPeriod = try body.readCString(max: 17, field: "validity_period")
        m.registeredDelivery = try body.readByte("registered_delivery")
        m.replaceIfPresent = try body.readByte("replace_if_present_flag")
        m.dataCoding = try body.readByte("data_coding")
        m.defaultMessageID = try body.readByte("sm_default_msg_id")
        let length = Int(try body.readByte("sm_length"))
        guard length <= 254, let sm = body.readBytes(length: length) else {
            throw SMPPBodyError(status: .invalidMessageLength, reason: "sm_length \(length) runs past the PDU")
        }
        m.shortMessage = sm
        m.tlvs = try body.readTLVs()
        return m
    }
}
