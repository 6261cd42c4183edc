import HTTPTypes
import HummingbirdTesting
import PetrelCore
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
                #expect(second.text.contains("isv.BUSINESS_LIMIT_DAY: 85291234567 already received 1 OTP messages"))
                let total = try await h.store.counts().values.reduce(0, +)
                #expect(total == 1)
            }
        }
    }
}
