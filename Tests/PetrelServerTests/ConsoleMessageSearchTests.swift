import Foundation
import PetrelCore
import PetrelStore
import Testing

@testable import PetrelServer

/// The messages page: part of a number, part of the text, and keyset pages past the first.
@Suite struct ConsoleMessageSearchTests {
    typealias H = ConsoleHarness

    @Test func searchesPartsAndPagesPastTheFirst() async throws {
        try await H.run { h in
            let page = Console.messagesPage
            let messages = (1...Int64(page + 5)).map {
                Message(
                    id: $0,
                    account: "acme",
                    to: $0 == 7 ? "85291110007" : "6591234\($0)",
                    text: $0 == 9 ? "Your code is 4242" : "hello \($0)",
                    createdAtMs: H.now - 10_000
                )
            }
            try await h.store.commit(WriteBatch(messages: messages))
            try await h.test { client in
                let (cookie, _) = try await H.signIn(client)
                func ids(_ path: String) async throws -> [Int64] {
                    let text = try await H.get(client, path, cookie: cookie).text
                    return text.split(separator: "href=\"/console/messages/").compactMap {
                        Int64($0.prefix { $0.isNumber })
                    }
                }
                let first = try await H.get(client, "/console/messages", cookie: cookie).text
                #expect(first.contains("id=\"older\"") && !first.contains("id=\"newer\""))
                #expect(try await ids("/console/messages").first == Int64(page + 5))
                let older = try await ids("/console/messages?before=6")
                #expect(older == [5, 4, 3, 2, 1])
                let newer = try await ids("/console/messages?after=5")
                #expect(newer.count == page && newer.first == Int64(page + 5) && newer.last == 6)
                // Part of a number, written with spaces and a dash; part of the text, any case.
                #expect(try await ids("/console/messages?to=%2B852%209111-00") == [7])
                #expect(try await ids("/console/messages?text=CODE%20is") == [9])
                let bad = try await H.get(client, "/console/messages?to=abc&before=x", cookie: cookie).text
                #expect(bad.contains("Number must be digits") && bad.contains("(before) must be a number."))
            }
        }
    }
}
