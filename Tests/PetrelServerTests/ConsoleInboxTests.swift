import Foundation
import HTTPTypes
import HummingbirdTesting
import PetrelCore
import PetrelStore
import Testing

@testable import PetrelServer

/// The sandbox inbox as a mail reader: conversations newest first with country, snippet and time, search by
/// number or text, the newest message first in the thread's markup, and clearing one number or all.
@Suite struct ConsoleInboxTests {
    typealias H = ConsoleHarness

    /// Three numbers; Singapore's got the newest message.
    static func fill(_ store: SQLiteStore) async throws {
        let sends: [(Int64, String, String)] = [
            (1, "85291234567", "Your code is 1111"), (2, "85291230002", "Parcel on its way"),
            (3, "85291234567", "Your code is 2222"), (4, "6581234567", "Flash SALE today"),
        ]
        try await store.commit(
            WriteBatch(
                messages: sends.map {
                    Message(id: $0.0, account: "acme", to: $0.1, text: $0.2, createdAtMs: H.now - 10_000 + $0.0)
                }
            )
        )
        _ = try await store.claim(limit: 10, nowMs: H.now, leaseMs: 60_000)
        var results = DispatchResults()
        results.sent = sends.map { SentRecord(id: $0.0, channel: "sandbox", carrierMessageId: "", sentAtMs: H.now) }
        results.inbox = sends.map {
            SandboxEntry(
                messageId: $0.0,
                account: "acme",
                to: $0.1,
                from: "Petrel",
                text: $0.2,
                segments: 1,
                receivedAtMs: H.now - 1000 + $0.0 * 100,
                outcome: "delivered"
            )
        }
        try await store.record(results)
    }

    /// The conversations' numbers in the order listed.
    static func listed(_ page: String) -> [String] {
        page.components(separatedBy: "<span class=\"who\">+").dropFirst().map { String($0.prefix { $0 != " " }) }
    }

    @Test func conversationsAreNewestFirstWithCountrySnippetAndTime() async throws {
        try await H.run { h in
            try await Self.fill(h.store)
            try await h.test { client in
                let (cookie, _) = try await H.signIn(client)
                let page = try await H.get(client, "/console/inbox", cookie: cookie).text
                #expect(Self.listed(page) == ["6581234567", "85291234567", "85291230002"])
                #expect(page.contains("+6581234567 <span class=\"muted\">SG · 1</span>"))
                #expect(page.contains("+85291234567 <span class=\"muted\">HK · 2</span>"))
                #expect(page.contains("<span class=\"snippet\">Your code is 2222</span>"))
                #expect(page.contains("<span class=\"when muted\">\(HTML.time(H.now - 1000 + 300))</span>"))
                // The newest conversation is open; its thread lists the newest message first.
                let thread = try await H.get(client, "/console/inbox?to=85291234567", cookie: cookie).text
                let older = try #require(thread.range(of: "Your code is 1111<span")?.lowerBound)
                let newest = try #require(thread.range(of: "Your code is 2222<span")?.lowerBound)
                #expect(newest < older)
                #expect(page.contains("aria-current=\"true\"><span class=\"who\">+6581234567"))
            }
        }
    }

    @Test func searchFindsPartialNumbersAndTextInAnyCase() async throws {
        try await H.run { h in
            try await Self.fill(h.store)
            try await h.test { client in
                let (cookie, _) = try await H.signIn(client)
                let byNumber = try await H.get(client, "/console/inbox?q=9123%204567", cookie: cookie).text
                #expect(Self.listed(byNumber) == ["85291234567"])
                let byText = try await H.get(client, "/console/inbox?q=flash+sale", cookie: cookie).text
                #expect(Self.listed(byText) == ["6581234567"])
                // An older message matches too; the live list keeps the search.
                let old = try await H.get(client, "/console/inbox?q=1111", cookie: cookie).text
                #expect(Self.listed(old) == ["85291234567"])
                #expect(
                    old.contains("data-refresh=\"/console/fragment/inbox?part=list&amp;to=85291234567&amp;q=1111\"")
                )
                let fragment = try await H.get(client, "/console/fragment/inbox?part=list&q=parcel", cookie: cookie)
                #expect(Self.listed(fragment.text) == ["85291230002"])
                let none = try await H.get(client, "/console/inbox?q=%3Cb%3Enothing", cookie: cookie).text
                #expect(none.contains("No conversation matches “&lt;b&gt;nothing”."))
            }
        }
    }

    @Test func clearOneNumberOrAllButNeverAllByMistake() async throws {
        try await H.run { h in
            try await Self.fill(h.store)
            try await h.test { client in
                let (cookie, csrf) = try await H.signIn(client)
                let page = try await H.get(client, "/console/inbox?to=85291234567", cookie: cookie).text
                #expect(page.contains("data-confirm=\"Delete the sandbox's messages to +85291234567?\""))
                #expect(page.contains("data-confirm=\"Delete every message in this account's sandbox inbox?\""))
                let one = try await H.post(
                    client,
                    "/console/inbox/clear",
                    cookie: cookie,
                    csrf: csrf,
                    [("to", "+852 9123 4567")]
                )
                #expect(one.status == .seeOther)
                #expect(try await h.store.sandboxMessages(account: "acme", to: nil, limit: 10).count == 2)
                let wrong = try await H.post(
                    client,
                    "/console/inbox/clear",
                    cookie: cookie,
                    csrf: csrf,
                    [("to", "all")]
                )
                #expect(wrong.text.contains("is not a phone number, so nothing was deleted."))
                #expect(try await h.store.sandboxMessages(account: "acme", to: nil, limit: 10).count == 2)
                _ = try await H.post(client, "/console/inbox/clear", cookie: cookie, csrf: csrf)
                #expect(try await h.store.sandboxMessages(account: "acme", to: nil, limit: 10).isEmpty)
            }
        }
    }
}
