/// command_status values (SMPP 3.4 §5.1.3) with their names, and how Petrel treats each when it answers a submit.
public struct CommandStatus: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt32

    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let ok = CommandStatus(rawValue: 0x00)
    public static let invalidMessageLength = CommandStatus(rawValue: 0x01)
    public static let invalidCommandLength = CommandStatus(rawValue: 0x02)
    public static let invalidCommandID = CommandStatus(rawValue: 0x03)
    public static let incorrectBindStatus = CommandStatus(rawValue: 0x04)
    public static let alreadyBound = CommandStatus(rawValue: 0x05)
    public static let invalidPriority = CommandStatus(rawValue: 0x06)
    public static let invalidRegisteredDelivery = CommandStatus(rawValue: 0x07)
    public static let systemError = CommandStatus(rawValue: 0x08)
    public static let invalidSourceAddress = CommandStatus(rawValue: 0x0A)
    public static let invalidDestinationAddress = CommandStatus(rawValue: 0x0B)
    public static let invalidMessageID = CommandStatus(rawValue: 0x0C)
    public static let bindFailed = CommandStatus(rawValue: 0x0D)
    public static let invalidPassword = CommandStatus(rawValue: 0x0E)
    public static let invalidSystemID = CommandStatus(rawValue: 0x0F)
    public static let messageQueueFull = CommandStatus(rawValue: 0x14)
    public static let invalidServiceType = CommandStatus(rawValue: 0x15)
    public static let submitFailed = CommandStatus(rawValue: 0x45)
    public static let invalidSourceTON = CommandStatus(rawValue: 0x48)
    public static let invalidSourceNPI = CommandStatus(rawValue: 0x49)
    public static let invalidDestinationTON = CommandStatus(rawValue: 0x50)
    public static let invalidDestinationNPI = CommandStatus(rawValue: 0x51)
    public static let invalidSystemType = CommandStatus(rawValue: 0x53)
    public static let throttled = CommandStatus(rawValue: 0x58)
    public static let invalidScheduleTime = CommandStatus(rawValue: 0x61)
    public static let invalidValidityPeriod = CommandStatus(rawValue: 0x62)
    public static let invalidOptionalParameter = CommandStatus(rawValue: 0xC0)
    public static let deliveryFailure = CommandStatus(rawValue: 0xFE)
    public static let unknownError = CommandStatus(rawValue: 0xFF)

    static let names: [UInt32: String] = [
        0x00: "ESME_ROK", 0x01: "ESME_RINVMSGLEN", 0x02: "ESME_RINVCMDLEN", 0x03: "ESME_RINVCMDID",
        0x04: "ESME_RINVBNDSTS", 0x05: "ESME_RALYBND", 0x06: "ESME_RINVPRTFLG", 0x07: "ESME_RINVREGDLVFLG",
        0x08: "ESME_RSYSERR", 0x0A: "ESME_RINVSRCADR", 0x0B: "ESME_RINVDSTADR", 0x0C: "ESME_RINVMSGID",
        0x0D: "ESME_RBINDFAIL", 0x0E: "ESME_RINVPASWD", 0x0F: "ESME_RINVSYSID", 0x11: "ESME_RCANCELFAIL",
        0x13: "ESME_RREPLACEFAIL", 0x14: "ESME_RMSGQFUL", 0x15: "ESME_RINVSERTYP", 0x33: "ESME_RINVNUMDESTS",
        0x34: "ESME_RINVDLNAME", 0x40: "ESME_RINVDESTFLAG", 0x42: "ESME_RINVSUBREP", 0x43: "ESME_RINVESMCLASS",
        0x44: "ESME_RCNTSUBDL", 0x45: "ESME_RSUBMITFAIL", 0x48: "ESME_RINVSRCTON", 0x49: "ESME_RINVSRCNPI",
        0x50: "ESME_RINVDSTTON", 0x51: "ESME_RINVDSTNPI", 0x53: "ESME_RINVSYSTYP", 0x54: "ESME_RINVREPFLAG",
        0x55: "ESME_RINVNUMMSGS", 0x58: "ESME_RTHROTTLED", 0x61: "ESME_RINVSCHED", 0x62: "ESME_RINVEXPIRY",
        0x63: "ESME_RINVDFTMSGID", 0x64: "ESME_RX_T_APPN", 0x65: "ESME_RX_P_APPN", 0x66: "ESME_RX_R_APPN",
        0x67: "ESME_RQUERYFAIL", 0xC0: "ESME_RINVOPTPARSTREAM", 0xC1: "ESME_ROPTPARNOTALLWD",
        0xC2: "ESME_RINVPARLEN", 0xC3: "ESME_RMISSINGOPTPARAM", 0xC4: "ESME_RINVOPTPARAMVAL",
        0xFE: "ESME_RDELIVERYFAILURE", 0xFF: "ESME_RUNKNOWNERR",
    ]

    public var name: String {
        if let known = Self.names[rawValue] { return known }
        let hex = String(rawValue, radix: 16, uppercase: true)
        return "ESME_0x" + String(repeating: "0", count: max(0, 8 - hex.count)) + hex
    }
    public var description: String { name }

    /// How a submit answered with this status should be handled.
    public enum Handling: Sendable, Equatable {
        case accepted
        /// Back off the whole channel, then try the part again (ESME_RTHROTTLED, ESME_RMSGQFUL).
        case slowDown
        /// A transient failure: retry with backoff until the message expires.
        case retry
        /// The destination cannot be reached through this channel: another channel of the route may try.
        case reroute
        /// The message itself is unacceptable: it fails.
        case fail
    }

    public var handling: Handling {
        switch self {
        case .ok: return .accepted
        case .throttled, .messageQueueFull: return .slowDown
        case .systemError, .submitFailed, .unknownError, .deliveryFailure, CommandStatus(rawValue: 0x64):
            return .retry
        case .invalidDestinationAddress, .invalidDestinationTON, .invalidDestinationNPI, CommandStatus(rawValue: 0x66):
            return .reroute
        default: return .fail
        }
    }
}
