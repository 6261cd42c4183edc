import PetrelCore
import Testing

@testable import PetrelServer

/// `limits:` in the config: the issue's shape, per-account overrides, and errors that name the key.
@Suite struct LimitsConfigurationTests {
    @Test func noLimitsMeansNoneForAnyAccount() throws {
        let c = try ServerConfiguration.parse(yaml: "accounts: [{name: acme}]")
        #expect(c.sendLimits(account: "acme") == nil)
        #expect(c.sendLimitsLookup()("anyone") == nil)
    }

    @Test func theIssuesShapeIsReadAndAccountsOverrideKeyByKey() throws {
        let c = try ServerConfiguration.parse(
            yaml: """
                limits:
                  perNumber:
                    OTP:    {minute: 1, hour: 5, day: 10}
                    NOTIFY: {minute: 10, day: 100}
                    "*":    {day: 200}
                  allowNumbers: ["85291234567"]
                  countries: {allow: [HK, sg, MY]}
                accounts:
                  - name: acme
                    limits:
                      perNumber: {OTP: {day: 3}}
                      countries: {deny: [ID]}
                  - name: plain
                """
        )
        let plain = try #require(c.sendLimitsLookup()("plain"))
        #expect(plain.perNumber.byType[.otp] == WindowCounts(minute: 1, hour: 5, day: 10))
        #expect(plain.perNumber.byType[.notify] == WindowCounts(minute: 10, day: 100))
        #expect(plain.perNumber.byType[.mkt] == nil && plain.perNumber.anyType == WindowCounts(day: 200))
        #expect(plain.perNumber.allowNumbers == ["85291234567"])
        #expect(plain.countries == .allow(["HK", "SG", "MY"]))
        #expect(c.sendLimitsLookup()("not-in-the-file") == plain)
        let acme = try #require(c.sendLimits(account: "acme"))
        #expect(acme.perNumber.byType[.otp] == WindowCounts(day: 3))
        #expect(acme.perNumber.byType[.notify] == WindowCounts(minute: 10, day: 100))
        #expect(acme.perNumber.allowNumbers == ["85291234567"] && acme.countries == .deny(["ID"]))
    }

    @Test func badLimitsNameTheirKey() {
        #expect(failure("limits: {perNumber: {SPAM: {day: 1}}}").contains("limits.perNumber.SPAM: unknown Type SPAM"))
        #expect(
            failure("limits: {perNumber: {OTP: {day: 0}}}").contains(
                "limits.perNumber.OTP.day must be a whole number from 1"
            )
        )
        #expect(failure("limits: {perNumber: {OTP: {hour: -5}}}").contains("limits.perNumber.OTP.hour must be"))
        #expect(failure("limits: {perNumber: {OTP: {}}}").contains("limits.perNumber.OTP must set minute, hour or day"))
        #expect(failure("limits: {perNumber: {OTP: {week: 3}}}").contains("limits.perNumber.OTP"))
        #expect(failure("limits: {perNumber: {OTP: 3}}").contains("limits.perNumber.OTP must be a mapping"))
        #expect(failure("limits: {countries: {allow: [HK], deny: [SG]}}").contains("limits.countries must have either"))
        #expect(failure("limits: {countries: {}}").contains("limits.countries must have either"))
        #expect(failure("limits: {countries: {deny: [XX]}}").contains("limits.countries.deny: XX is not an ISO 3166"))
        #expect(failure("limits: {allowNumbers: [\"12\"]}").contains("limits.allowNumbers: 12 is not an international"))
        #expect(failure("accounts: [{name: acme, limits: {caps: []}}]").contains("accounts[0].limits.caps"))
        #expect(
            failure("accounts: [{name: acme, limits: {perNumber: {otp: {day: -1}}}}]")
                .contains("accounts[0].limits.perNumber.otp.day must be")
        )
    }

    @Test func capsAreReadPerAccountAndCountry() throws {
        let c = try ServerConfiguration.parse(
            yaml: """
                limits:
                  caps:
                    - {account: acme, day: 100000, month: 2000000, warnAt: 0.8}
                    - {account: acme, country: id, hour: 500}
                accounts: [{name: acme}, {name: plain}]
                """
        )
        let acme = try #require(c.sendLimits(account: "acme"))
        #expect(
            acme.caps.caps == [
                SendCap(account: "acme", day: 100_000, month: 2_000_000, warnAt: 0.8),
                SendCap(account: "acme", country: "ID", hour: 500),
            ]
        )
        #expect(acme.perNumber.isEmpty)
        #expect(c.sendLimits(account: "plain") == nil)
        #expect(c.sendLimitsLookup()("acme")?.caps.caps.count == 2)
    }

    @Test func badCapsNameTheirKey() {
        let accounts = "accounts: [{name: acme}]\n"
        #expect(
            failure(accounts + "limits: {caps: [{account: nobody, day: 1}]}").contains(
                "limits.caps[0].account must name an account listed under accounts: (acme)"
            )
        )
        #expect(failure(accounts + "limits: {caps: [{day: 1}]}").contains("limits.caps[0].account must name"))
        #expect(failure(accounts + "limits: {caps: [{account: acme}]}").contains("limits.caps[0] must set hour, day"))
        #expect(failure(accounts + "limits: {caps: [{account: acme, day: 0}]}").contains("limits.caps[0].day must be"))
        #expect(
            failure(accounts + "limits: {caps: [{account: acme, day: 1, warnAt: 1}]}").contains(
                "limits.caps[0].warnAt must be between 0 and 1"
            )
        )
        #expect(
            failure(accounts + "limits: {caps: [{account: acme, day: 1, warnAt: 0}]}").contains(
                "limits.caps[0].warnAt must be between 0 and 1"
            )
        )
        #expect(
            failure(accounts + "limits: {caps: [{account: acme, country: XX, day: 1}]}").contains(
                "limits.caps[0].country: XX is not an ISO 3166"
            )
        )
        #expect(
            failure(accounts + "limits: {caps: [{account: acme, day: 1}, {account: acme, month: 5}]}").contains(
                "limits.caps[1]: a second cap for account acme"
            )
        )
        #expect(failure(accounts + "limits: {caps: [{account: acme, week: 5}]}").contains("limits.caps[0]"))
        #expect(failure(accounts + "limits: {caps: {account: acme}}").contains("limits.caps must be a list"))
    }

    @Test func thePumpingGuardIsReadWithDefaultsAndAnAccountsOwnReplacesIt() throws {
        let c = try ServerConfiguration.parse(
            yaml: """
                limits:
                  pumpingGuard: {type: OTP, window: 1h, minSent: 200, minConversionRate: 0.2, every: 2s}
                accounts:
                  - name: acme
                    limits: {pumpingGuard: {type: notify, window: 30m, minSent: 5}}
                  - name: plain
                """
        )
        let plain = try #require(c.sendLimitsLookup()("plain"))
        #expect(
            plain.pumpingGuard == PumpingGuard(type: .otp, windowMs: 3_600_000, minSent: 200, minConversionRate: 0.2)
        )
        #expect(c.sendLimitsLookup()("not-in-the-file") == plain)
        #expect(plain.checks(to: "85291234567", type: .otp) && !plain.checks(to: "85291234567", type: .notify))
        let acme = try #require(c.sendLimits(account: "acme"))
        // Keys the account leaves out take the guard's defaults (not the top level's).
        #expect(acme.pumpingGuard == PumpingGuard(type: .notify, windowMs: 1_800_000, minSent: 5))
        #expect(c.limits.pumpingGuardEveryMs == 2000)
        #expect(Set(c.pumpingGuards) == [plain.pumpingGuard, acme.pumpingGuard])
        let defaults = try ServerConfiguration.parse(yaml: "limits: {pumpingGuard: {}}")
        #expect(defaults.sendLimits(account: "x")?.pumpingGuard == PumpingGuard())
        #expect(defaults.limits.pumpingGuardEveryMs == 10_000)
        #expect(try ServerConfiguration.parse(yaml: "limits: {}").pumpingGuards.isEmpty)
    }

    @Test func badPumpingGuardsNameTheirKey() {
        #expect(
            failure("limits: {pumpingGuard: {type: SPAM}}").contains(
                "limits.pumpingGuard.type: unknown Type SPAM; use OTP, NOTIFY or MKT"
            )
        )
        for window in ["0h", "-1h", "1w", "3600", "2d"] {
            #expect(
                failure("limits: {pumpingGuard: {window: \(window)}}").contains("limits.pumpingGuard.window must be")
            )
        }
        #expect(failure("limits: {pumpingGuard: {minSent: 0}}").contains("limits.pumpingGuard.minSent must be"))
        #expect(
            failure("limits: {pumpingGuard: {minConversionRate: 1.5}}").contains(
                "limits.pumpingGuard.minConversionRate must be a number from 0.0 to 1.0"
            )
        )
        #expect(failure("limits: {pumpingGuard: {minConversionRate: -0.1}}").contains("minConversionRate must be"))
        #expect(failure("limits: {pumpingGuard: {every: 0s}}").contains("limits.pumpingGuard.every must be"))
        #expect(failure("limits: {pumpingGuard: {limit: 3}}").contains("unknown config key limits.pumpingGuard.limit"))
        #expect(
            failure("accounts: [{name: acme, limits: {pumpingGuard: {every: 1s}}}]").contains(
                "unknown config key accounts[0].limits.pumpingGuard.every"
            )
        )
        #expect(
            failure("accounts: [{name: acme, limits: {pumpingGuard: {minSent: 0}}}]").contains(
                "accounts[0].limits.pumpingGuard.minSent must be"
            )
        )
        #expect(failure("limits: {pumpingGuard: 3}").contains("limits.pumpingGuard must be a mapping"))
    }
}
