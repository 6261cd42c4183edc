import PetrelCore
import PetrelDelivery
import PetrelStore
import Testing

@testable import PetrelServer

/// `optOut:` and `accounts[].optOut` (issue 24).
@Suite struct OptOutConfigurationTests {
    @Test func defaults() throws {
        let c = try ServerConfiguration.parse(yaml: "")
        #expect(c.optOut.keywords == OptOutKeywords() && c.inbound.rules.optOut == OptOutKeywords())
        #expect(c.optOut.appliesTo == [.mkt] && c.optOut.maxPhones == 1_000_000)
        #expect(c.inbound.rules.maxOptOutPhones == 1_000_000 && c.optOut.replies(account: "x").reply.isEmpty)
    }

    @Test func topLevelAndAccounts() throws {
        let c = try ServerConfiguration.parse(
            yaml: """
                optOut:
                  keywords: [stop, arret]
                  startKeywords: [start]
                  appliesTo: [NOTIFY]
                  maxPhones: 50
                  reply: "You are unsubscribed. Reply START to resubscribe."
                accounts:
                  - name: acme
                    optOut: {appliesTo: [MKT], reply: "Bye", replyFrom: Acme}
                  - name: other
                """
        )
        #expect(c.optOut.keywords?.optsOut("Arret") == true && c.optOut.keywords?.optsOut("END") == nil)
        #expect(c.optOut.appliesTo == [.mkt, .notify] && c.optOut.accountsAppliesTo == ["acme": [.mkt]])
        #expect(c.inbound.rules.maxOptOutPhones == 50)
        #expect(
            c.optOut.replies(account: "acme").reply == "Bye" && c.optOut.replies(account: "acme").replyFrom == "Acme"
        )
        #expect(c.optOut.replies(account: "other").reply.hasPrefix("You are unsubscribed"))
        let off = try ServerConfiguration.parse(yaml: "optOut: {keywords: [], startKeywords: []}")
        #expect(off.inbound.rules.optOut == nil)
    }

    @Test(arguments: [
        ("optOut: {appliesTo: [OTP]}", "optOut.appliesTo cannot have OTP"),
        ("optOut: {appliesTo: [SPAM]}", "optOut.appliesTo takes MKT and NOTIFY, got SPAM"),
        ("optOut: {maxPhones: 0}", "optOut.maxPhones"),
        ("optOut: {keywords: [\"STOP NOW\"]}", "optOut.keywords must be words"),
        ("optOut: {keywords: [STOP], startKeywords: [stop]}", "both have STOP"),
        ("optOut: {replyFrom: \"not a sender!\"}", "optOut.replyFrom must be a sender ID"),
        ("accounts: [{name: a, optOut: {appliesTo: [OTP]}}]", "accounts[0].optOut.appliesTo cannot have OTP"),
        ("optOut: {colour: red}", "unknown config key optOut.colour"),
        ("optOut: {reply: \" start \", startReply: STOP}", "optOut.reply must not be an opt-out keyword itself"),
        ("optOut: {startReply: Unsubscribe}", "optOut.startReply must not be an opt-out keyword itself"),
        ("accounts: [{name: a, optOut: {reply: Stop}}]", "accounts[0].optOut.reply must not be an opt-out keyword"),
    ])
    func refusals(yaml: String, message: String) {
        #expect(throws: (any Error).self) { try ServerConfiguration.parse(yaml: yaml) }
        do {
            _ = try ServerConfiguration.parse(yaml: yaml)
        } catch {
            #expect("\(error)".contains(message), "\(error)")
        }
    }
}
