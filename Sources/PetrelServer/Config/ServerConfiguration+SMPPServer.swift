import PetrelDelivery
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
    /// `tls:`: the listener speaks TLS only, with this certificate (chain) and private key (PEM files). nil: plain.
    public var tls: TLSFiles?

    public struct TLSFiles: Sendable, Equatable {
        public var certFile: String
        public var keyFile: String
    }

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
        s.tls = try readSMPPServerTLS(node)
        return s
    }

    /// `smppServer.tls`: both files required, readable, PEM, and the key the certificate's. Checked now, so a
    /// wrong file stops startup with a sentence naming its key instead of failing every handshake.
    static func readSMPPServerTLS(_ parent: ConfigNode) throws -> SMPPServerSetting.TLSFiles? {
        guard parent.has("tls") else { return nil }
        let node = try parent.child("tls")
        let cert = try node.string("certFile") ?? ""
        let key = try node.string("keyFile") ?? ""
        guard !cert.isEmpty, !key.isEmpty else {
            throw ConfigNode.Failure(
                description: "\(parent.key("tls")) needs certFile and keyFile (PEM files: the server's certificate, "
                    + "with its chain, and its private key)"
            )
        }
        let files = SMPPServerSetting.TLSFiles(certFile: cert, keyFile: key)
        var probe = SMPPServer.Configuration()
        try files.configure(&probe, key: parent.key("tls"))
        return files
    }
}

extension SMPPServerSetting.TLSFiles {
    /// Gives the listener its TLS context; a failure is a sentence naming `key`: a file that cannot be read or
    /// holds no PEM certificate or key, or a key that is not the certificate's.
    func configure(_ c: inout SMPPServer.Configuration, key: String) throws {
        if let problem = TLSSettings(certFile: certFile, keyFile: keyFile).problem(key: key) {
            throw ServerConfiguration.Failure(description: problem)
        }
        do {
            c.tls = try SMSCServer.tlsContext(certFile: certFile, keyFile: keyFile)
        } catch {
            throw ServerConfiguration.Failure(
                description: "\(key).keyFile: \(keyFile) is not the private key of the certificate in \(certFile) "
                    + "(or the certificate cannot be used for a TLS server)"
            )
        }
    }
}

extension SMPPServerSetting {
    /// The listener's configuration; a connection that has not bound within 30 s (or the idle time) is closed.
    /// Without `tls` (made by `PetrelServer.startSMPPServer` from `tls`'s files).
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
