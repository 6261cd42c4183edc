import PetrelDelivery
import PetrelStore
import Testing

@testable import PetrelServer

/// `inbound:` and `accounts[].moUrl` (issue 24).
@Suite struct InboundConfigurationTests {
    @Test func defaults() throws {
        let c = try ServerConfiguration.parse(yaml: "")
        #expect(c.inbound.rules.replyWindowMs == 7 * 86_400_000 && c.inbound.partWaitMs == 60_000)
        #expect(
            c.inbound.rules.maxPendingParts == 10_000 && c.inbound.rules.duplicateWindowMs == 300_000
                && c.inbound.keepMs == 30 * 86_400_000
        )
        #expect(c.inbound.routes.isEmpty && c.inbound.rules.defaultAccount == "default")
    }

    @Test func theMappingAndTheLongestPrefixWins() throws {
        let c = try ServerConfiguration.parse(
            yaml: """
                inbound:
                  numbers:
                    - {number: "+852600", account: hk}
                    - {number: "85260001234", account: acme}
                  replyWindowDays: 2
                  partWaitSeconds: 5
                  maxPendingParts: 100
                  duplicateWindowSeconds: 30
                accounts:
                  - {name: acme, moUrl: "http://127.0.0.1:9/mo"}
                """
        )
        #expect(c.inbound.account(for: "85260001234") == "acme")
        #expect(c.inbound.account(for: "85260009999") == "hk")
        #expect(c.inbound.account(for: "6581234567") == nil)
        #expect(c.inbound.rules.replyWindowMs == 2 * 86_400_000 && c.inbound.partWaitMs == 5000)
        #expect(c.inbound.rules.maxPendingParts == 100 && c.inbound.rules.duplicateWindowMs == 30_000)
        #expect(c.accounts.first?.moURL == "http://127.0.0.1:9/mo")
    }

    /// The short form: `inbound:` as the list of numbers.
    @Test func theListForm() throws {
        let c = try ServerConfiguration.parse(yaml: "inbound: [{number: \"85260001234\", account: acme}]")
        #expect(c.inbound.account(for: "85260001234") == "acme" && c.inbound.partWaitMs == 60_000)
    }

    @Test func badValuesNameTheirKey() {
        #expect(failure("inbound: {numbers: [{number: '85 2', account: a}]}").contains("inbound.numbers[0].number"))
        #expect(failure("inbound: [{number: '852'}]").contains("inbound[0].account"))
        #expect(failure("inbound: {replyWindowDays: -1}").contains("inbound.replyWindowDays"))
        #expect(failure("inbound: {maxPendingParts: 0}").contains("inbound.maxPendingParts"))
        #expect(failure("inbound: {partWaitSeconds: 0}").contains("inbound.partWaitSeconds"))
        #expect(failure("inbound: {other: 1}").contains("inbound.other"))
        #expect(failure("accounts: [{name: a, moUrl: 'ftp://x'}]").contains("accounts[0].moUrl"))
    }
}
