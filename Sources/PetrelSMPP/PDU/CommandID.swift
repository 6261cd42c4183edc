/// SMPP 3.4 command ids (§5.1.2.1). Responses have bit 31 set.
public enum CommandID: UInt32, Sendable, CaseIterable {
    case genericNack = 0x8000_0000
    case bindReceiver = 0x0000_0001
    case bindReceiverResp = 0x8000_0001
    case bindTransmitter = 0x0000_0002
    case bindTransmitterResp = 0x8000_0002
    case submitSm = 0x0000_0004
    case submitSmResp = 0x8000_0004
    case deliverSm = 0x0000_0005
    case deliverSmResp = 0x8000_0005
    case unbind = 0x0000_0006
    case unbindResp = 0x8000_0006
    case bindTransceiver = 0x0000_0009
    case bindTransceiverResp = 0x8000_0009
    case enquireLink = 0x0000_0015
    case enquireLinkResp = 0x8000_0015
    case dataSm = 0x0000_0103
    case dataSmResp = 0x8000_0103

    public var isResponse: Bool { rawValue & 0x8000_0000 != 0 }
}
