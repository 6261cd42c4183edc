import PetrelSMPP

/// `smppServer:`: Petrel as an SMSC for customers' ESMEs (docs/configuration.md). Absent: no SMPP server.
public struct SMPPServerSetting: Sendable, Equatable {
    public var host = "127.0.0.1"
    public var port = 2776
    /// Binds at once over every system_id (each `petrel smpp-users` row may lower its own).
    public var maxBinds = 100
    /// A bind closed after this long without a PDU from its ESME.
    public var idleSeconds = 120
    /// submit_sm accepted at once per bind; more are answered ESME_RTHROTTLED.
    public var window = 100

    public init() {}
}

extension ServerConfiguration {
    static func readSMPPServer(_ root: ConfigNode) throws -> SMPPServerSetting? {
        guard root.has("smppServer") else {
            _ = try root.child("smppServer")
            return nil
        }
        let node = try root.child("smppServer")
        var s = SMPPServerSetting()
        if let listen = try node.string("listen") {
            var probe = ServerConfiguration()
            do {
                try probe.setListen(listen)
            } catch {
                throw ConfigNode.Failure(description: "\(node.key("listen")) must be HOST:PORT, got \(listen)")
            }
            s.host = probe.host
            s.port = probe.port
        }
        s.maxBinds = try node.int("maxBinds", default: s.maxBinds, range: 1...100_000)
        s.idleSeconds = try node.int("idleSeconds", default: s.idleSeconds, range: 5...86_400)
        s.window = try node.int("window", default: s.window, range: 1...10_000)
        return s
    }
}

extension SMPPServerSetting {
    /// The listener's configuration; a connection that has not bound within 30 s (or the idle time) is closed.
    var server: SMPPServer.Configuration {
        var c = SMPPServer.Configuration()
        c.host = host
        c.port = port
        // Room for every bind plus a few connections binding or refused at the same moment.
        c.maxConnections = maxBinds + 64
        c.session = SMSCSessionStateMachine.Configuration(
            window: window,
            idleMs: Int64(idleSeconds) * 1000,
            bindTimeoutMs: Int64(min(30, idleSeconds)) * 1000
        )
        return c
    }
}
