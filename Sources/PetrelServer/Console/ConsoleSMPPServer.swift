import PetrelStore

/// The SMPP server's section of the Channels page (issue 29): per account, this node's binds by mode and its
/// messages of the last minute, and the receipts and inbound messages owed to the account's ESMEs (store-wide).
/// Operators see every account; other keys their own.
extension Console {
    /// The outbox counts stop here ("10,000+"): the page refreshes every 2 s, and counting every row kept for an
    /// ESME that never binds would cost more with each one.
    static let smppCountCap = 10_000

    func smppServerSection(_ s: ConsoleSessions.Session) async throws -> HTML {
        guard let smppServer else { return "" }
        let everyone = s.may(ConsoleAction.operate)
        var views = smppServer.board.accounts(nowMs: clock())
        var receipts = try await store.smppReceiptCountsByAccount(cap: Self.smppCountCap)
        var mo = try await store.smppMOCountsByAccount(cap: Self.smppCountCap)
        if !everyone {
            views = views.filter { $0.key == s.account }
            receipts = receipts.filter { $0.key == s.account }
            mo = mo.filter { $0.key == s.account }
        }
        let accounts = Set(views.keys).union(receipts.keys).union(mo.keys).sorted()
        let rows = accounts.map { account -> [HTML] in
            let v = views[account] ?? SMPPBindBoard.AccountView()
            let r = receipts[account] ?? SMPPReceiptCounts(ready: 0, waiting: 0)
            return [
                "\(account)", "\(v.transmitters)", "\(v.receivers)", "\(v.transceivers)",
                "\(v.accepted)", "\(v.refused)", Self.capped(r.ready), Self.capped(r.waiting),
                Self.capped(mo[account] ?? 0),
            ]
        }
        let binds = views.values.reduce(0) { $0 + $1.transmitters + $1.receivers + $1.transceivers }
        let limit: HTML = everyone ? " of <span id=\"smpp-max-binds\">\(smppServer.board.maxBinds)</span>" : ""
        return """
            <h2 id="smpp-server">SMPP server</h2>
            <p>Listening on <code>\(smppServer.listen)</code>\(HTML.when(smppServer.tls, " (TLS)")); \
            <span id="smpp-binds">\(binds)</span>\(limit) binds on this node. \
            <span class="muted">Binds and messages are this node's; receipts and inbound messages count every \
            node's. Pending: owed now (sent and not yet answered, or waiting for a receiver or transceiver bind); \
            awaiting: their message is not final yet. Counts stop at \(Self.capped(Self.smppCountCap + 1)).</span></p>
            """
                + HTML.table(
                    [
                        "Account", "Transmitter binds", "Receiver binds", "Transceiver binds",
                        "Accepted, last minute", "Refused, last minute", "Receipts pending", "Receipts awaiting",
                        "Inbound pending",
                    ],
                    rows,
                    empty:
                        "No binds and nothing owed. ESMEs bind with a system_id made by petrel smpp-users add."
                )
    }

    /// A count from a bounded query: past the cap it is shown as "10,000+".
    static func capped(_ n: Int) -> HTML {
        guard n > smppCountCap else { return "\(n)" }
        var digits = String(smppCountCap)
        var grouped = ""
        while digits.count > 3 {
            grouped = "," + digits.suffix(3) + grouped
            digits.removeLast(3)
        }
        return "\(digits + grouped)+"
    }
}
