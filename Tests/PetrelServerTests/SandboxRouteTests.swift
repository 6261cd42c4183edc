import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import PetrelCore
import PetrelStore
import Testing

@testable import PetrelServer

/// `GET` / `DELETE /sandbox/messages` in each `sandbox.retrospection` mode.
@Suite struct SandboxRouteTests {
    typealias H = ConsoleHarness

    /// One sandbox message for acme (the harness's key) and one for another account.
    static func seed(_ store: SQLiteStore) async throws {
        try await store.commit(
            WriteBatch(messages: [
                Message(id: 1, account: "acme", to: "85291234567", text: "code 1234", createdAtMs: H.now),
                Message(id: 2, account: "other", to: "85291234568", text: "code 5678", createdAtMs: H.now),
            ])
        )
        _ = try await store.claim(limit: 2, nowMs: H.now, leaseMs: 60_000)
        var results = DispatchResults()
        let sent = [(1, "acme", "85291234567", "code 1234"), (2, "other", "85291234568", "code 5678")]
        for (id, account, to, text) in sent {
            results.sent.append(SentRecord(id: Int64(id), channel: "sandbox", carrierMessageId: "", sentAtMs: H.now))
            results.inbox.append(
                SandboxEntry(
                    messageId: Int64(id),
                    account: account,
                    to: to,
                    from: "",
                    text: text,
                    segments: 1,
                    receivedAtMs: H.now,
                    outcome: "delivered"
                )
            )
        }
        try await store.record(results)
    }

    static func basic(_ id: String, _ secret: String) -> HTTPFields {
        [.authorization: "Basic " + Data("\(id):\(secret)".utf8).base64EncodedString()]
    }

    static func accounts(_ r: TestResponse) throws -> [String] {
        let json = try JSONSerialization.jsonObject(with: Data(r.text.utf8)) as? [String: Any]
        return (json?["Messages"] as? [[String: Any]] ?? []).compactMap { $0["Account"] as? String }
    }

    @Test func authenticatedModeShowsOnlyTheKeysAccount() async throws {
        try await H.run { h in
            try await Self.seed(h.store)
            try await h.store.putAccessKey(
                AccessKeyRecord(
                    id: "LTAIkeysonly000001",
                    secret: "keys-secret",
                    account: "acme",
                    name: "keys",
                    policy: H.policy("petrel:ManageKeys"),
                    createdAtMs: H.now
                )
            )
            try await h.test { client in
                let anonymous = try await client.execute(uri: "/sandbox/messages", method: .get)
                #expect(anonymous.status == .unauthorized)
                #expect(anonymous.headers[.wwwAuthenticate]?.hasPrefix("Basic") == true)
                let wrong = try await client.execute(
                    uri: "/sandbox/messages",
                    method: .get,
                    headers: Self.basic(H.keyId, "wrong")
                )
                #expect(wrong.status == .unauthorized && wrong.text.contains("InvalidAccessKeyId"))
                let mine = try await client.execute(
                    uri: "/sandbox/messages",
                    method: .get,
                    headers: Self.basic(H.keyId, H.secret)
                )
                #expect(try mine.status == .ok && Self.accounts(mine) == ["acme"])
                let (cookie, _) = try await H.signIn(client)
                let bySession = try await H.get(client, "/sandbox/messages", cookie: cookie)
                #expect(try bySession.status == .ok && Self.accounts(bySession) == ["acme"])
                let refused = try await client.execute(
                    uri: "/sandbox/messages",
                    method: .get,
                    headers: Self.basic("LTAIkeysonly000001", "keys-secret")
                )
                #expect(refused.status == .forbidden && refused.text.contains("Forbidden.RAM"))

                // DELETE empties only the caller's account, and never for another site.
                var crossSite = Self.basic(H.keyId, H.secret)
                crossSite[HTTPField.Name("Sec-Fetch-Site")!] = "cross-site"
                let refusedDelete = try await client.execute(
                    uri: "/sandbox/messages",
                    method: .delete,
                    headers: crossSite
                )
                #expect(refusedDelete.status == .forbidden)
                let deleted = try await client.execute(
                    uri: "/sandbox/messages",
                    method: .delete,
                    headers: Self.basic(H.keyId, H.secret)
                )
                #expect(deleted.status == .ok && deleted.text == #"{"Deleted":1}"#)
                #expect(try await h.store.sandboxMessages(account: nil, to: nil, limit: 10).map(\.account) == ["other"])
            }
        }
    }

    @Test func openModeShowsEveryAccountWithoutCredentials() async throws {
        try await H.run(retrospection: .open) { h in
            try await Self.seed(h.store)
            try await h.test { client in
                let all = try await client.execute(uri: "/sandbox/messages?limit=5", method: .get)
                #expect(try all.status == .ok && Self.accounts(all).sorted() == ["acme", "other"])
                let one = try await client.execute(uri: "/sandbox/messages?to=%2B85291234568", method: .get)
                #expect(try Self.accounts(one) == ["other"])
            }
        }
    }

    @Test func offModeHasNoRoute() async throws {
        try await H.run(retrospection: .off) { h in
            try await h.test { client in
                let r = try await client.execute(
                    uri: "/sandbox/messages",
                    method: .get,
                    headers: Self.basic(H.keyId, H.secret)
                )
                #expect(r.status == .notFound)
            }
        }
    }
}
