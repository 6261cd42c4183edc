import Foundation
import PetrelCore
import PetrelStore
import Testing

@testable import PetrelServer

/// A message's page: its timeline (what the rows hold and the recorded events) and why a waiting message waits.
@Suite struct ConsoleHistoryTests {
    typealias H = ConsoleHarness

    @Test func aMessagePageShowsItsTimelineAndWhyItWaits() async throws {
        let live: @Sendable (Message, Int64) -> String? = { m, _ in
            m.id == 3 ? "no channel of its route is bound (<smpp>)" : nil
        }
        try await H.run(waitReason: live) { h in
            let messages = (1...3).map {
                Message(id: $0, account: "acme", to: "6591234567", text: "hi", createdAtMs: H.now - 10_000)
            }
            try await h.store.commit(WriteBatch(messages: messages))
            _ = try await h.store.claim(limit: 2, nowMs: H.now - 9000, leaseMs: 60_000)
            var r = DispatchResults()
            r.sent = [
                SentRecord(
                    id: 1,
                    channel: "smpp",
                    carrierMessageId: "c1",
                    sentAtMs: H.now - 8000,
                    parts: [PartRecord(part: 1, total: 1, carrierId: "c1")]
                )
            ]
            r.retry = [
                RetryRecord(id: 2, atMs: H.now - 8000, notBeforeMs: H.now + 5000, reason: "throttled <b>now</b>")
            ]
            try await h.store.record(r)
            _ = try await h.store.applyReceipts([
                CarrierReceipt(channel: "smpp", carrierId: "c1", status: .delivered, atMs: H.now - 7000)
            ])
            try await h.test { client in
                let (cookie, _) = try await H.signIn(client)
                let done = try await H.get(client, "/console/messages/1", cookie: cookie).text
                #expect(done.contains("<h2>Timeline</h2>") && !done.contains("Status changes"))
                for kind in ["accepted", "submitted", "delivered"] { #expect(done.contains("<td>\(kind)</td>")) }
                #expect(done.contains("to channel smpp, carrier id c1"))
                #expect(!done.contains("id=\"waiting\""))
                // Retried: when and why, escaped.
                let retried = try await H.get(client, "/console/messages/2", cookie: cookie).text
                #expect(retried.contains("<td>retried</td><td>throttled &lt;b&gt;now&lt;/b&gt;</td>"))
                let until = HTML.time(H.now + 5000)
                #expect(
                    retried.contains(
                        "<strong>Waiting:</strong> retry at \(until) after throttled &lt;b&gt;now&lt;/b&gt;</p>"
                    )
                )
                // Queued and due: the dispatcher's live reason.
                let queued = try await H.get(client, "/console/messages/3", cookie: cookie).text
                let since = HTML.time(H.now - 10_000)
                #expect(
                    queued.contains(
                        "queued since \(since): no channel of its route is bound (&lt;smpp&gt;)</p>"
                    )
                )
            }
        }
    }
}
