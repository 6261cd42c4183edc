import Foundation
import PetrelStore
import Testing

/// SMPP server credentials on every backend: one row per system_id, password sealed, enabled and deleted.
@Suite struct SMPPUserConformanceTests {
    @Test(arguments: StoreKind.allCases)
    func usersAreKeptSealedDisabledAndDeleted(kind: StoreKind) async throws {
        try await withStore(kind) { (store: any MessageStore, _: String) async throws in
            let a = SMPPUserRecord(
                systemID: "crm01",
                password: "pässw0",
                account: "acme",
                maxBinds: 3,
                tps: 50,
                allowIP: ["10.0.0.0/8", "127.0.0.1/32"],
                createdAtMs: 10
            )
            #expect(try await store.addSMPPUser(a))
            var taken = a
            taken.account = "other"
            #expect(try await store.addSMPPUser(taken) == false)
            let b = SMPPUserRecord(systemID: "bulk", password: "x", account: "other", createdAtMs: 20)
            #expect(try await store.addSMPPUser(b))
            #expect(try await store.smppUser(systemID: "crm01") == a)
            #expect(try await store.smppUser(systemID: "CRM01") == nil)
            #expect(try await store.smppUsers() == [b, a])

            #expect(try await store.setSMPPUser(systemID: "crm01", enabled: false))
            #expect(try await store.smppUser(systemID: "crm01")?.enabled == false)
            #expect(try await store.setSMPPUser(systemID: "nobody", enabled: false) == false)
            #expect(try await store.deleteSMPPUser(systemID: "bulk"))
            #expect(try await store.deleteSMPPUser(systemID: "bulk") == false)
            #expect(try await store.smppUsers().map(\.systemID) == ["crm01"])
        }
    }

    @Test func passwordsAreSealedAtRest() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("petrel-smpp-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try SQLiteStore(directory: dir, secrets: try SecretBox(key: Array(repeating: 1, count: 32)))
        #expect(
            try await store.addSMPPUser(
                SMPPUserRecord(systemID: "crm01", password: "Zq7#kLp2", account: "acme", createdAtMs: 1)
            )
        )
        try await store.close()
        var found = false
        for file in try FileManager.default.contentsOfDirectory(atPath: dir) {
            let data = FileManager.default.contents(atPath: dir + "/" + file) ?? Data()
            if data.range(of: Data("crm01".utf8)) != nil { found = true }
            #expect(data.range(of: Data("Zq7#kLp2".utf8)) == nil, "\(file) holds the password in clear")
        }
        #expect(found, "the store files hold the user at all")
    }
}
