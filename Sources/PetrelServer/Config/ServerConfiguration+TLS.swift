import PetrelDelivery

extension ServerConfiguration {
    /// A `tls:` mapping (`receipts.tls`, `accounts[].tls`, `channels[].tls`); nil when absent. Files are checked
    /// now (readable, PEM), so a wrong path stops startup naming its key rather than failing every push.
    static func readTLS(_ parent: ConfigNode, serverName: Bool) throws -> TLSSettings? {
        guard parent.has("tls") else { return nil }
        let node = try parent.child("tls")
        let tls = TLSSettings(
            caFile: try nonEmpty(node, "caFile"),
            serverName: serverName ? try nonEmpty(node, "serverName") : nil,
            certFile: try nonEmpty(node, "certFile"),
            keyFile: try nonEmpty(node, "keyFile")
        )
        if let problem = tls.problem(key: parent.key("tls")) { throw ConfigNode.Failure(description: problem) }
        return tls
    }

    private static func nonEmpty(_ node: ConfigNode, _ key: String) throws -> String? {
        guard let value = try node.string(key) else { return nil }
        guard !value.isEmpty else { throw ConfigNode.Failure(description: "\(node.key(key)) must not be empty") }
        return value
    }
}
