public import PetrelSMPP

/// A carrier connection from the config file's `channels:` list (`type: smpp`).
public struct SMPPChannelConfiguration: Sendable, Equatable {
    public enum BindKind: String, Sendable, CaseIterable {
        case transceiver
        case transmitterReceiver = "transmitter-receiver"
    }

    public var id: String
    public var host: String
    public var port: Int
    public var systemID: String
    public var password: String
    public var systemType: String = ""
    public var bind: BindKind = .transceiver
    /// Parallel binds (of this node).
    public var sessions: Int = 1
    /// Binds of this channel across every node sharing the store (the carrier's limit); 0 = no limit. Each node
    /// binds only with a slot it holds, so nodes together never open more.
    public var maxBinds: Int = 0
    /// Outstanding submit_sm per bind.
    public var window: Int = 100
    /// submit_sm per second across the channel (divided among the live nodes sharing a store); 0 = unlimited.
    public var tps: Double = 0
    public var sourceTON: UInt8 = 5
    public var sourceNPI: UInt8 = 0
    /// Sender used when a message has none.
    public var defaultSender: String = ""
    public var longMessages: LongMessageMode = .udh
    public var enquireLinkIntervalMs: Int64 = 30_000
    public var responseTimeoutMs: Int64 = 10_000
    public var reconnectMinMs: Int64 = 500
    public var reconnectMaxMs: Int64 = 30_000
    /// The carrier's country (ISO 3166 alpha-2): senders of inbound messages in national format are read as its
    /// numbers (`CarrierNumber`); nil: read as they come.
    public var country: String? = nil
    /// SMPP over TLS (`tls:`); nil: plain TCP.
    public var tls: TLSSettings? = nil

    public init(id: String, host: String, port: Int, systemID: String, password: String) {
        self.id = id
        self.host = host
        self.port = port
        self.systemID = systemID
        self.password = password
    }
}
