import HTTPTypes
import HummingbirdTesting
import Logging
import PetrelCore
import PetrelDelivery
import PetrelStore
import Testing

@testable import PetrelServer

/// The console's sandbox send goes through `limits.perNumber` like a signed call.
@Suite struct ConsoleLimitTests {
    typealias H = ConsoleHarness

    @Test func aSendOverThePerNumberLimitShowsTheRefusalAndStoresNothing() async throws {
        let limits = SendLimits(perNumber: NumberLimits(byType: [.otp: WindowCounts(day: 1)]))
        try await H.run(sendLimits: limits) { h in
            try await h.test { client in
                let (cookie, csrf) = try await H.signIn(client)
                let form = [("to", "85291234567"), ("text", "code 1"), ("type", "OTP")]
                let first = try await H.post(client, "/console/inbox/send", cookie: cookie, csrf: csrf, form)
                #expect(first.status == .seeOther || first.status == .found)
                let second = try await H.post(client, "/console/inbox/send", cookie: cookie, csrf: csrf, form)
                #expect(second.text.contains("85291234567 already received 1 OTP messages"))
                #expect(second.text.contains("(isv.BUSINESS_LIMIT_DAY).</p>"))
                let total = try await h.store.counts().values.reduce(0, +)
                #expect(total == 1)
            }
        }
    }

    @Test func aCampaignChunksRowsOverThePerNumberLimitAreCountedFailed() async throws {
        let limits = SendLimits(perNumber: NumberLimits(byType: [.mkt: WindowCounts(day: 1)]))
        try await H.run(sendLimits: limits) { h in
            let rows = ["85291234567", "85291234567", "85291234568"].map { CampaignRow(to: $0, body: "Sale") }
            let record = CampaignRecord(
                account: "acme",
                name: "spring",
                text: "Sale",
                type: .mkt,
                from: "Petrel",
                validitySeconds: 600,
                taskId: "",
                startAtMs: nil,
                totalRows: 3,
                validRows: 3,
                invalidRows: 0,
                parts: 3,
                invalidReport: "",
                segmentsSummary: "1 part: 3",
                createdAtMs: H.now,
                updatedAtMs: H.now
            )
            let id = try await h.store.createCampaign(record, rows: rows)
            _ = try await h.store.setCampaignStatus(id: id, account: "acme", to: .running, from: [.draft], nowMs: H.now)
            let runner = CampaignRunner(
                store: h.store,
                gateway: h.console.gateway,
                wake: WakeSignal(),
                chunk: 10,
                logger: Logger(label: "test"),
                clock: { H.now }
            )
            let running = try #require(try await h.store.campaign(id: id, account: "acme"))
            #expect(try await runner.step(running))
            let after = try #require(try await h.store.campaign(id: id, account: "acme"))
            #expect(after.cursor == 3 && after.accepted == 2 && after.failed == 1)
            let total = try await h.store.counts().values.reduce(0, +)
            #expect(total == 2)
        }
    }
}
