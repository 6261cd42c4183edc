import PetrelCore
import Testing

@testable import PetrelServer

/// `retention:` and the accounts' own blocks: defaults, inheritance, and errors that name the key.
@Suite struct RetentionConfigurationTests {
    @Test func defaultsAreThirtyDaysEveryMinuteInThousands() throws {
        let r = try ServerConfiguration.parse(yaml: "").retention
        let day: Int64 = 86_400_000
        #expect(r.defaults.messagesMs == 30 * day && r.defaults.textsMs == 30 * day && r.defaults.redactOnFinal.isEmpty)
        #expect(r.defaults.sandboxInboxMs == 30 * day && r.defaults.campaignsMs == 30 * day)
        #expect(r.everyMs == 60_000 && r.batch == 200 && r.accounts.isEmpty)
    }

    @Test func valuesAndAccountOverridesAreRead() throws {
        let c = try ServerConfiguration.parse(
            yaml: """
                retention: {messages: 2m, redactOnFinal: [otp], every: 5s, batch: 50, campaigns: 12h}
                accounts:
                  - name: acme
                    retention: {messages: 7d, texts: 1d, redactOnFinal: [OTP, MKT]}
                  - name: short
                    retention: {messages: 45s}
                  - name: plain
                """
        )
        let r = c.retention
        #expect(r.defaults.messagesMs == 120_000 && r.defaults.textsMs == 120_000)
        #expect(r.defaults.sandboxInboxMs == 120_000 && r.defaults.campaignsMs == 43_200_000)
        #expect(r.defaults.redactOnFinal == [.otp] && r.everyMs == 5000 && r.batch == 50)
        let acme = r.rules(for: "acme")
        #expect(acme.messagesMs == 7 * 86_400_000 && acme.textsMs == 86_400_000 && acme.redactOnFinal == [.otp, .mkt])
        // Left out: the top level's values, the text never kept longer than the message.
        #expect(acme.campaignsMs == 43_200_000 && acme.sandboxInboxMs == 120_000)
        let short = r.rules(for: "short")
        #expect(short.messagesMs == 45_000 && short.textsMs == 45_000 && short.redactOnFinal == [.otp])
        #expect(r.rules(for: "plain") == r.defaults && r.rules(for: "unknown") == r.defaults)
    }

    @Test func badValuesNameTheirKey() {
        #expect(failure("retention: {messages: 0d}").contains("retention.messages must be a duration like 45s"))
        #expect(failure("retention: {messages: 30}").contains("retention.messages must be a duration"))
        #expect(failure("retention: {every: -5s}").contains("retention.every must be a duration"))
        #expect(failure("retention: {texts: 99999999999d}").contains("retention.texts must be a duration"))
        #expect(failure("retention: {messages: 1d, texts: 2d}") == "retention.texts must not be longer than messages")
        #expect(failure("retention: {batch: 0}").contains("retention.batch must be a whole number from 1"))
        #expect(failure("retention: {redactOnFinal: [SPAM]}").contains("retention.redactOnFinal lists message Types"))
        #expect(failure("retention: {forever: 1d}") == "unknown config key retention.forever")
        #expect(
            failure("accounts: [{name: a, retention: {messages: 1h, texts: 2h}}]")
                == "accounts[0].retention.texts must not be longer than messages"
        )
        #expect(
            failure("accounts: [{name: a, retention: {every: 1h}}]") == "unknown config key accounts[0].retention.every"
        )
    }
}
