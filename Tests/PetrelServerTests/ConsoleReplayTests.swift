import Foundation
import PetrelCore
import PetrelStore
import Testing

@testable import PetrelServer

/// Replay and retry say what they would do, and only a second, confirmed submit does it.
@Suite struct ConsoleReplayTests {
    typealias H = ConsoleHarness

    @Test func replayAsksFirstThenDoesWhatItSaid() async throws {
        try await H.run { h in
            let messages = (Int64(1)...3).map { id -> Message in
                var m = Message(id: id, account: "acme", to: "6591234567", text: "hi", createdAtMs: H.now - 10_000)
                m.status = .delivered
                m.doneAtMs = H.now - 5000
                return m
            }
            try await h.store.commit(WriteBatch(messages: messages))
            try await h.test { client in
                let (cookie, csrf) = try await H.signIn(client)
                // An empty form used to re-push everything at once: now it asks.
                let ask = try await H.post(client, "/console/receipts/replay", cookie: cookie, csrf: csrf).text
                #expect(ask.contains("Replay 3 receipt(s)?") && ask.contains("of account acme, finished at any time"))
                #expect(ask.contains("name=\"confirm\" value=\"yes\""))
                #expect(try await h.store.outboxCounts(account: "acme").pending == 0)
                let one = try await H.post(
                    client,
                    "/console/receipts/replay",
                    cookie: cookie,
                    csrf: csrf,
                    [("message_id", "2")]
                ).text
                #expect(one.contains("Replay 1 receipt(s)?") && one.contains("MessageId 2"))
                #expect(one.contains("name=\"message_id\" value=\"2\""))
                let none = try await H.post(
                    client,
                    "/console/receipts/replay",
                    cookie: cookie,
                    csrf: csrf,
                    [("message_id", "99")]
                ).text
                #expect(none.contains("Nothing to replay") && !none.contains("id=\"replay-confirm\""))
                // Confirmed: it does what it said, and a confirmation without the token does nothing.
                let forged = try await H.post(
                    client,
                    "/console/receipts/replay",
                    cookie: cookie,
                    csrf: nil,
                    [("message_id", "2"), ("confirm", "yes")]
                )
                #expect(!forged.text.contains("queued to be pushed"))
                #expect(try await h.store.outboxCounts(account: "acme").pending == 0)
                let done = try await H.post(
                    client,
                    "/console/receipts/replay",
                    cookie: cookie,
                    csrf: csrf,
                    [("message_id", "2"), ("confirm", "yes")]
                ).text
                #expect(done.contains("1 receipt(s) queued to be pushed again."))
                #expect(try await h.store.outboxCounts(account: "acme").pending == 1)
                // Retry asks too (nothing is parked here).
                let retry = try await H.post(client, "/console/receipts/retry", cookie: cookie, csrf: csrf).text
                #expect(retry.contains("Nothing to retry: account acme has no parked receipt."))
            }
        }
    }
}
