/// One SMPP 3.4 protocol data unit: the header fields and a typed body.
public struct PDU: Sendable, Equatable {
    public var status: CommandStatus
    public var sequence: UInt32
    public var body: Body

    public init(_ body: Body, sequence: UInt32, status: CommandStatus = .ok) {
        self.body = body
        self.sequence = sequence
        self.status = status
    }

    public enum Body: Sendable, Equatable {
        case bind(Bind)
        case bindResp(BindResp)
        case unbind
        case unbindResp
        case submitSm(ShortMessage)
        case submitSmResp(messageID: String)
        case deliverSm(ShortMessage)
        case deliverSmResp(messageID: String)
        case dataSm(DataSm)
        case dataSmResp(messageID: String, tlvs: [TLV])
        case enquireLink
        case enquireLinkResp
        case genericNack
    }

    public var commandID: CommandID {
        switch body {
        case .bind(let b): return b.mode.command
        case .bindResp(let r): return r.mode.responseCommand
        case .unbind: return .unbind
        case .unbindResp: return .unbindResp
        case .submitSm: return .submitSm
        case .submitSmResp: return .submitSmResp
        case .deliverSm: return .deliverSm
        case .deliverSmResp: return .deliverSmResp
        case .dataSm: return .dataSm
        case .dataSmResp: return .dataSmResp
        case .enquireLink: return .enquireLink
        case .enquireLinkResp: return .enquireLinkResp
        case .genericNack: return .genericNack
        }
    }
}

public enum BindMode: Sendable, Equatable {
    case transmitter, receiver, transceiver

    var command: CommandID {
        switch self {
        case .transmitter: return .bindTransmitter
        case .receiver: return .bindReceiver
        case .transceiver: return .bindTransceiver
        }
    }

    var responseCommand: CommandID {
        switch self {
        case .transmitter: return .bindTransmitterResp
        case .receiver: return .bindReceiverResp
        case .transceiver: return .bindTransceiverResp
        }
    }

    public var canSubmit: Bool { self != .receiver }
    public var canReceive: Bool { self != .transmitter }
}

public struct Bind: Sendable, Equatable {
    public var mode: BindMode
    public var systemID: String
    public var password: String
    public var systemType: String
    public var interfaceVersion: UInt8
    public var addressRange: Address

    public init(
        mode: BindMode,
        systemID: String,
        password: String,
        systemType: String = "",
        interfaceVersion: UInt8 = 0x34,
        addressRange: Address = Address()
    ) {
        self.mode = mode
        self.systemID = systemID
        self.password = password
        self.systemType = systemType
        self.interfaceVersion = interfaceVersion
        self.addressRange = addressRange
    }
}

public struct BindResp: Sendable, Equatable {
    public var mode: BindMode
    public var systemID: String
    public var tlvs: [TLV]

    public init(mode: BindMode, systemID: String, tlvs: [TLV] = []) {
        self.mode = mode
        self.systemID = systemID
        self.tlvs = tlvs
    }
}

/// The body shared by submit_sm and deliver_sm.
public struct ShortMessage: Sendable, Equatable {
    public var serviceType: String
    public var source: Address
    public var destination: Address
    public var esmClass: UInt8
    public var protocolID: UInt8
    public var priority: UInt8
    public var scheduleDeliveryTime: String
    public var validityPeriod: String
    public var registeredDelivery: UInt8
    public var replaceIfPresent: UInt8
    public var dataCoding: UInt8
    public var defaultMessageID: UInt8
    public var shortMessage: [UInt8]
    public var tlvs: [TLV]

    public init(
        serviceType: String = "",
        source: Address = Address(),
        destination: Address = Address(),
        esmClass: UInt8 = 0,
        protocolID: UInt8 = 0,
        priority: UInt8 = 0,
        scheduleDeliveryTime: String = "",
        validityPeriod: String = "",
        registeredDelivery: UInt8 = 0,
        replaceIfPresent: UInt8 = 0,
        dataCoding: UInt8 = 0,
        defaultMessageID: UInt8 = 0,
        shortMessage: [UInt8] = [],
        tlvs: [TLV] = []
    ) {
        self.serviceType = serviceType
        self.source = source
        self.destination = destination
        self.esmClass = esmClass
        self.protocolID = protocolID
        self.priority = priority
        self.scheduleDeliveryTime = scheduleDeliveryTime
        self.validityPeriod = validityPeriod
        self.registeredDelivery = registeredDelivery
        self.replaceIfPresent = replaceIfPresent
        self.dataCoding = dataCoding
        self.defaultMessageID = defaultMessageID
        self.shortMessage = shortMessage
        self.tlvs = tlvs
    }

    /// esm_class bits 2-5 = 0001: an SMSC delivery receipt (§5.2.12).
    public var isDeliveryReceipt: Bool { esmClass & 0x3C == 0x04 }
    /// esm_class bit 6: the message starts with a user data header.
    public var hasUDH: Bool { esmClass & 0x40 != 0 }
}

public struct DataSm: Sendable, Equatable {
    public var serviceType: String
    public var source: Address
    public var destination: Address
    public var esmClass: UInt8
    public var registeredDelivery: UInt8
    public var dataCoding: UInt8
    public var tlvs: [TLV]

    public init(
        serviceType: String = "",
        source: Address = Address(),
        destination: Address = Address(),
        esmClass: UInt8 = 0,
        registeredDelivery: UInt8 = 0,
        dataCoding: UInt8 = 0,
        tlvs: [TLV] = []
    ) {
        self.serviceType = serviceType
        self.source = source
        self.destination = destination
        self.esmClass = esmClass
        self.registeredDelivery = registeredDelivery
        self.dataCoding = dataCoding
        self.tlvs = tlvs
    }

    public var isDeliveryReceipt: Bool { esmClass & 0x3C == 0x04 }
}
