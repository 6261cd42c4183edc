import PetrelStore

/// The SMPP server's section of the Channels page (issue 29): per account, this node's binds by mode and its
/// messages of the last minute, and the receipts owed to the account's ESMEs (store-wide). Operators see every
/// account; other keys their own.
extension Console {
    func smppServerSection(_ s: ConsoleSessions.Session) async throws -> HTML {
        guard let smppServer else { return "" }
        let everyone = s.may(ConsoleAction.operate)
        var views = smppServer.board.accounts(nowMs: clock())
        var receipts = try await store.smppReceiptCountsByAccount()
        if !everyone {
            views = views.filter { $0.key == s.account }
            receipts = receipts.filter { $0.key == s.account }
        }
        let accounts = Set(views.keys).union(receipts.keys).sorted()
        let rows = accounts.map { account -> [HTML] in
            let v = views[account] ?? SMPPBindBoard.AccountView()
            let r = receipts[account] ?? SMPPReceiptCounts(ready: 0, waiting: 0)
            return [
                "\(account)", "\(v.transmitters)", "\(v.receivers)", "\(v.transceivers)",
                "\(v.accepted)", "\(v.refused)", "\(r.ready)", "\(r.waiting)",
            ]
        }
        let binds = views.values.reduce(0) { $0 + $1.transmitters + $1.receivers + $1.transceivers }
        let limit: HTML = everyone ? " of <span id=\"smpp-max-binds\">\(smppServer.board.maxBinds)</span>" : ""
        return """
            <h2 id="smpp-server">SMPP server</h2>
            <p>Listening on <code>\(smppServer.listen)</code>\(HTML.when(smppServer.tls, " (TLS)")); \
            <span id="smpp-binds">\(binds)</span>\(limit) binds on this node. \
            <span class="muted">Binds and messages are this node's; receipts pending count every node's. \
            Pending: owed now (sent and not yet answered, or waiting for a receiver or transceiver bind); \
            awaiting: their message is not final yet.</span></p>
            """
                + HTML.table(
                    [
                        "Account", "Transmitter binds", "Receiver binds", "Transceiver binds",
                        "Accepted, last minute", "Refused, last minute", "Receipts pending", "Receipts awaiting",
                    ],
                    rows,
                    empty: "No binds and no receipts owed. ESMEs bind with a system_id made by petrel smpp-users add."
                )
    }
}
