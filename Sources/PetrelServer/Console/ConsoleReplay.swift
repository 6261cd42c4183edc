import PetrelStore

/// The questions a replay or a retry asks before it runs: how many receipts, for which account and which
/// messages, and a second, explicit submit (with the session's token, as every form) that does it.
extension Console {
    static func askReplay(_ n: Int, _ f: ReceiptFilter, _ form: Form, _ s: ConsoleSessions.Session) -> HTML {
        var which: [String] = []
        if let id = f.messageId { which.append(id < 0 ? "MessageId \(form["message_id"] ?? "")" : "MessageId \(id)") }
        if let task = f.taskId { which.append("TaskId \(task)") }
        which.append(f.sinceMs.map { "finished since \(HTML.time($0))" } ?? "finished at any time")
        let scope = "of account \(s.account), \(which.joined(separator: ", "))"
        guard n > 0 else {
            return
                "<p class=\"notice\" role=\"status\" id=\"replay-ask\">Nothing to replay: no finished message \(scope).</p>"
        }
        let kept: HTML = ["task_id", "message_id", "since"].map { k -> HTML in
            "<input type=\"hidden\" name=\"\(k)\" value=\"\(form[k] ?? "")\">"
        }.joined()
        return """
            <section class="notice" id="replay-ask" aria-labelledby="replay-ask-title">\
            <h2 id="replay-ask-title">Replay \(n) receipt(s)?</h2>\
            <p>This pushes the receipts of \(n) finished message(s) \(scope) to the receipt URL again.</p>\
            <form method="post" action="/console/receipts/replay" class="inline">\(HTML.csrfField(s))\(kept)\
            <input type="hidden" name="confirm" value="yes">\
            <button type="submit" class="danger" id="replay-confirm">Replay \(n) receipt(s)</button> \
            <a href="/console/receipts">Cancel</a></form></section>
            """
    }

    static func askRetry(_ n: Int, _ s: ConsoleSessions.Session) -> HTML {
        guard n > 0 else {
            return
                "<p class=\"notice\" role=\"status\" id=\"retry-ask\">Nothing to retry: account \(s.account) has no parked receipt.</p>"
        }
        return """
            <section class="notice" id="retry-ask" aria-labelledby="retry-ask-title">\
            <h2 id="retry-ask-title">Retry \(n) parked receipt(s)?</h2>\
            <p>This moves \(n) parked receipt(s) of account \(s.account) back to the outbox, to be pushed now.</p>\
            <form method="post" action="/console/receipts/retry" class="inline">\(HTML.csrfField(s))\
            <input type="hidden" name="confirm" value="yes">\
            <button type="submit" class="danger" id="retry-confirm">Retry \(n) receipt(s)</button> \
            <a href="/console/receipts">Cancel</a></form></section>
            """
    }
}
