import HTTPTypes
import HummingbirdTesting
import PetrelAPI
import PetrelCore
import PetrelStore
import Testing

@testable import PetrelServer

/// The pumping guard's halts in the console: a banner on every page, listed on the Limits page, lifted there.
@Suite struct ConsoleHaltsTests {
    typealias H = ConsoleHarness

    static let limits = SendLimits(pumpingGuard: PumpingGuard(type: .otp, windowMs: 3_600_000, minSent: 50))
    static let halt = PumpingHalt(
        account: "acme",
        country: "ID",
        type: .otp,
        haltedAtMs: H.now - 60_000,
        sent: 240,
        converted: 3
    )

    @Test func aHaltIsBanneredListedAndLiftedFromTheLimitsPage() async throws {
        try await H.run(sendLimits: Self.limits) { h in
            #expect(try await h.store.haltPumping(Self.halt, countedFromMs: nil))
            let board = h.console.gateway.pumpingHalts
            board.replace(try await h.store.pumpingHalts(account: nil))
            try await h.test { client in
                let (cookie, csrf) = try await H.signIn(client)
                for path in ["/console", "/console/messages", "/console/limits"] {
                    let page = try await H.get(client, path, cookie: cookie)
                    #expect(page.text.contains("Pumping guard: OTP to ID from acme halted since"), "\(path)")
                    #expect(page.text.contains("(240 sent, 3 reported converted)"), "\(path)")
                }
                let limits = try await H.get(client, "/console/limits", cookie: cookie).text
                #expect(limits.contains("OTP to one country is halted when at least 50 were sent within"))
                #expect(limits.contains("<td>ID</td><td>OTP</td>"))
                #expect(limits.contains("<td>240</td><td>3</td><td>1%</td>"))
                #expect(limits.contains("action=\"/console/limits/lift\""))
                #expect(limits.contains("name=\"country\" value=\"ID\""))

                // Without the CSRF token nothing is lifted.
                let forged = try await H.post(
                    client,
                    "/console/limits/lift",
                    cookie: cookie,
                    csrf: nil,
                    [("account", "acme"), ("country", "ID")]
                )
                #expect(forged.status == .forbidden)
                #expect(try await h.store.pumpingHalts(account: "acme").count == 1)

                let lifted = try await H.post(
                    client,
                    "/console/limits/lift",
                    cookie: cookie,
                    csrf: csrf,
                    [("account", "acme"), ("country", "ID")]
                )
                #expect(lifted.status == .ok)
                #expect(lifted.text.contains("Lifted: OTP to ID from acme."))
                #expect(!lifted.text.contains("Pumping guard: OTP to ID"))
                #expect(try await h.store.pumpingHalts(account: "acme").isEmpty)
                // This node's copy went at once: sends are no longer refused here.
                #expect(board.halt(account: "acme", country: "ID", type: .otp) == nil)
                let again = try await H.post(
                    client,
                    "/console/limits/lift",
                    cookie: cookie,
                    csrf: csrf,
                    [("account", "acme"), ("country", "ID")]
                )
                #expect(again.text.contains("No halt was in force there."))
            }
        }
    }
    /// The halt of numbers with no known country is lifted alone from its own row, not with the account's others.
    @Test func theUnknownCountryHaltIsLiftedAlone() async throws {
        try await H.run(sendLimits: Self.limits) { h in
            var unknown = Self.halt
            unknown.country = ""
            #expect(try await h.store.haltPumping(Self.halt, countedFromMs: nil))
            #expect(try await h.store.haltPumping(unknown, countedFromMs: nil))
            try await h.test { client in
                let (cookie, csrf) = try await H.signIn(client)
                let limits = try await H.get(client, "/console/limits", cookie: cookie).text
                #expect(limits.contains("name=\"country\" value=\"unknown\""))
                let lifted = try await H.post(
                    client,
                    "/console/limits/lift",
                    cookie: cookie,
                    csrf: csrf,
                    [("account", "acme"), ("country", "unknown")]
                )
                #expect(lifted.status == .ok)
                #expect(try await h.store.pumpingHalts(account: "acme").map(\.country) == ["ID"])
            }
        }
    }
}
