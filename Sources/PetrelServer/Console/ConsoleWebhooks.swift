import Foundation
import Hummingbird
import PetrelCore
import PetrelDelivery
import PetrelStore

/// The Receipts page's webhook parts: the account's receipt and inbound URLs set from the console, a test receipt
/// pushed at once with the answer shown, and every node's recent pushes (`PushLog`).
extension Console {
    func registerWebhooks(_ router: Router<PetrelRequestContext>) {
        post("/console/receipts/test", router, needs: ConsoleAction.receipts) { request, s, _ in
            try await self.receipts(request, s, notice: await self.testReceipt(s))
        }
        post("/console/receipts/urls", router, needs: ConsoleAction.receipts) { request, s, form in
            try await self.receipts(request, s, notice: await self.setURLs(s, form))
        }
    }

    /// Sets both URLs ("" stops pushing); the account's webhook secret is kept, or made (and shown once) when it
    /// had none.
    func setURLs(_ s: ConsoleSessions.Session, _ form: Form) async -> String {
        let receipt = (form["receipt_url"] ?? "").trimmingCharacters(in: .whitespaces)
        let inbound = (form["mo_url"] ?? "").trimmingCharacters(in: .whitespaces)
        for (name, url) in [("receipt", receipt), ("inbound", inbound)]
        where !url.isEmpty && (url.count > 2048 || WebhookClient.Endpoint(url: url) == nil) {
            return
                "The \(name) URL must look like http[s]://host[:port]/path (at most 2048 characters); nothing was changed."
        }
        do {
            let before = try await store.accounts().first { $0.name == s.account }
            try await Accounts.setReceiptURL(store: store, account: s.account, url: receipt, nowMs: clock())
            let after = try await Accounts.setMoURL(store: store, account: s.account, url: inbound, nowMs: clock())
            var said = "Saved. Pushes follow the new URLs within a few seconds."
            if before == nil || before?.webhookSecret.isEmpty == true {
                said += " Pushes are signed (X-Petrel-Signature) with this account's new webhook secret, shown only "
                said += "now: \(after.webhookSecret)"
            }
            return said
        } catch {
            return "The URLs could not be saved: \(StoreErrorText.sentence(error))."
        }
    }

    /// Pushes one made-up receipt (MessageId 0, TaskId `petrel-test-receipt`, ReportId 0) to the receipt URL now,
    /// signed like every push, and says how the receiver answered. Nothing is stored or retried.
    func testReceipt(_ s: ConsoleSessions.Session) async -> String {
        let account: AccountRecord?
        do {
            account = try await store.accounts().first { $0.name == s.account }
        } catch {
            return "The account could not be read: \(StoreErrorText.sentence(error))."
        }
        guard let account, !account.receiptURL.isEmpty else {
            return "This account has no receipt URL yet: set one below, then send a test receipt."
        }
        guard let endpoint = WebhookClient.Endpoint(url: account.receiptURL) else {
            return "The receipt URL \(account.receiptURL) is not an http:// or https:// URL."
        }
        let now = clock()
        var m = Message(
            id: 0,
            account: s.account,
            to: "85200000000",
            text: "Petrel test receipt",
            taskId: "petrel-test-receipt",
            status: .delivered,
            createdAtMs: now
        )
        m.sentAtMs = now
        m.doneAtMs = now
        let body = ReceiptReport.body(
            [OutboxReceipt(id: 0, account: s.account, message: m, attempts: 0, createdAtMs: now)],
            dateOffsetSeconds: dateOffsetSeconds
        )
        var problem: String?
        do {
            let tls =
                endpoint.secure ? try (push.accountTLS[account.name] ?? push.tls).clientConfiguration() : nil
            let answer = try await WebhookClient().post(
                endpoint,
                body: body,
                headers: [
                    ("X-Petrel-Signature", ReceiptReport.signature(body: body, secret: account.webhookSecret)),
                    ("X-Petrel-Account", s.account),
                ],
                timeout: .milliseconds(push.timeoutMs),
                tls: tls
            )
            if !ReceiptReport.accepted(status: answer.status, body: answer.body) {
                problem =
                    "the receiver answered HTTP \(answer.status): "
                    + String(decoding: answer.body.prefix(200), as: UTF8.self)
            }
        } catch {
            problem = TLSErrorText.describe(error, host: endpoint.host, peer: "the receiver") ?? "\(error)"
        }
        pushLog?.record(
            PushLog.Entry(
                atMs: clock(),
                account: s.account,
                kind: "test receipt",
                url: account.receiptURL,
                items: 1,
                attempt: 1,
                problem: problem
            )
        )
        return problem.map { "The test receipt was not taken: \($0)." }
            ?? "The test receipt (MessageId 0, TaskId petrel-test-receipt) was taken by \(account.receiptURL)."
    }

    /// The URL form, the test button and the recent pushes, for the Receipts page.
    func webhookSections(_ s: ConsoleSessions.Session, _ account: AccountRecord?) async -> HTML {
        let pushes = await pushLog?.recent(account: s.account) ?? []
        // Which node pushed is for operators: a node's default name holds its host name and data directory.
        let operates = s.may(ConsoleAction.operate)
        let rows = pushes.map { e -> [HTML] in
            ["\(HTML.time(e.atMs))"] + (operates ? ["\(e.node)"] : []) + [
                "\(e.kind)", "<code>\(e.url)</code>", "\(e.items)", "\(e.attempt)",
                e.problem.map { "not taken: \($0)" as HTML } ?? "taken",
            ]
        }
        let columns = ["Time"] + (operates ? ["Node"] : []) + ["What", "URL", "Items", "Attempt", "Answer"]
        return """
            <h2>Where pushes go</h2>
            <form method="post" action="/console/receipts/urls" class="grid" id="webhook-urls">\(HTML.csrfField(s))
            <label>Receipt URL <input name="receipt_url" id="receipt-url" type="url" \
            value="\(account?.receiptURL ?? "")" placeholder="https://example.com/sms/receipts"></label>
            <label>Inbound (MO) URL <input name="mo_url" id="mo-url" type="url" \
            value="\(account?.moURL ?? "")" placeholder="https://example.com/sms/inbound"></label>
            <button type="submit" id="save-urls">Save</button></form>
            <p class="muted">Empty stops those pushes. A <code>receiptUrl</code> or <code>moUrl</code> in the config \
            file's <code>accounts:</code> is applied again when the server starts.</p>
            <form method="post" action="/console/receipts/test" class="inline">\(HTML.csrfField(s))\
            <button type="submit" id="test-receipt" class="secondary">Send a test receipt</button></form>
            <h2>Recent pushes (every node)</h2>
            \(HTML.table(columns, rows, empty: "No pushes yet."))
            """
    }
}
