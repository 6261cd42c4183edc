import HTTPTypes
import HummingbirdTesting
import PetrelCore
import PetrelStore
import Testing

@testable import PetrelServer

/// The Limits page and the cap banner every page shows.
@Suite struct ConsoleLimitsPageTests {
    typealias H = ConsoleHarness

    static let limits = SendLimits(
        perNumber: NumberLimits(
            byType: [.otp: WindowCounts(minute: 1, hour: 5, day: 10), .notify: WindowCounts(day: 100)],
            anyType: WindowCounts(day: 200),
            allowNumbers: ["85291234599"]
        ),
        countries: .allow(["HK", "SG"]),
        caps: SendCaps([
            SendCap(account: "acme", day: 2, warnAt: 0.5), SendCap(account: "acme", country: "SG", hour: 40),
        ])
    )

    static func send(_ client: any TestClientProtocol, _ cookie: String, _ csrf: String, to: String) async throws {
        let form = [("to", to), ("text", "Hello"), ("type", "NOTIFY")]
        let r = try await H.post(client, "/console/inbox/send", cookie: cookie, csrf: csrf, form)
        #expect(r.status == .seeOther)
    }

    @Test func thePageShowsTheConfiguredLimitsAndTheCounters() async throws {
        try await H.run(sendLimits: Self.limits) { h in
            try await h.test { client in
                let (cookie, csrf) = try await H.signIn(client)
                try await Self.send(client, cookie, csrf, to: "85291234567")
                let page = try await H.get(client, "/console/limits", cookie: cookie)
                #expect(page.status == .ok)
                let text = page.text
                #expect(text.contains("<h2>Account acme</h2>"))
                #expect(text.contains("<tr><td>OTP</td><td>1</td><td>5</td><td>10</td></tr>"))
                #expect(text.contains("<tr><td>* (any Type)</td><td><span class=\"muted\">–</span></td>"))
                #expect(text.contains("Never limited per number (allowNumbers): 85291234599"))
                #expect(text.contains("Only to: HK, SG."))
                // The day cap counted the one part; the SG hour cap none (the message went to HK).
                #expect(text.contains("<td>all</td><td>day</td><td>1 / 2</td>"))
                #expect(text.contains("<td>SG</td><td>hour</td><td>0 / 40</td>"))
                #expect(text.contains("aria-label=\"50% used\""))
                #expect(text.contains("past warnAt</span>"))
                #expect(text.contains("href=\"/console/limits\" aria-current=\"page\""))
            }
        }
    }

    @Test func everyPageShowsTheBannerPastWarnAtAndWhenReached() async throws {
        try await H.run(sendLimits: Self.limits) { h in
            try await h.test { client in
                let (cookie, csrf) = try await H.signIn(client)
                let before = try await H.get(client, "/console", cookie: cookie)
                #expect(!before.text.contains("cap-banner"))
                try await Self.send(client, cookie, csrf, to: "85291234567")
                for path in ["/console", "/console/messages", "/console/campaigns", "/console/keys", "/console/limits"]
                {
                    let page = try await H.get(client, path, cookie: cookie)
                    #expect(
                        page.text.contains(
                            "Cap warning: account acme, all countries, this day (UTC): 1 of 2 parts (50%), past warnAt 0.5."
                        ),
                        "\(path)"
                    )
                }
                try await Self.send(client, cookie, csrf, to: "85291234568")
                let reached = try await H.get(client, "/console/messages", cookie: cookie)
                #expect(
                    reached.text.contains(
                        "Cap reached: account acme, all countries, this day (UTC): 2 of 2 parts. Sends are refused with "
                            + "OUT_OF_SERVICE until 2026-11-19 00:00:00 +00:00."
                    )
                )
                // The third send is refused by the cap, and the banner stays.
                let form = [("to", "85291234569"), ("text", "Hello"), ("type", "NOTIFY")]
                let refused = try await H.post(client, "/console/inbox/send", cookie: cookie, csrf: csrf, form)
                #expect(refused.text.contains("OUT_OF_SERVICE") && refused.text.contains("cap-banner"))
                // Polled fragments carry no banner.
                let fragment = try await H.get(client, "/console/fragment/overview", cookie: cookie)
                #expect(!fragment.text.contains("cap-banner"))
            }
        }
    }

    @Test func aKeyWithoutManageLimitsSeesTheBannerButNotThePage() async throws {
        try await H.run(sendLimits: Self.limits) { h in
            try await h.store.putAccessKey(
                AccessKeyRecord(
                    id: "LTAIreader00000001",
                    secret: "reader-secret",
                    account: "acme",
                    name: "reader",
                    policy: H.policy("dysms:QueryMessage", "dysms:SendMessageToGlobe"),
                    createdAtMs: H.now
                )
            )
            try await h.test { client in
                let (cookie, csrf) = try await H.signIn(client, keyId: "LTAIreader00000001", secret: "reader-secret")
                let page = try await H.get(client, "/console/limits", cookie: cookie)
                #expect(page.status == .forbidden && page.text.contains("does not allow petrel:ManageLimits"))
                try await Self.send(client, cookie, csrf, to: "85291234567")
                let home = try await H.get(client, "/console/messages", cookie: cookie)
                #expect(home.text.contains("Cap warning: account acme"))
                #expect(!home.text.contains("href=\"/console/limits\""))
            }
        }
    }

    @Test func withoutLimitsThePageSaysSoAndNoBannerShows() async throws {
        try await H.run { h in
            try await h.test { client in
                let (cookie, _) = try await H.signIn(client)
                let page = try await H.get(client, "/console/limits", cookie: cookie)
                #expect(page.status == .ok && page.text.contains("No limits: this account's sends are not limited."))
                #expect(!page.text.contains("cap-banner"))
            }
        }
    }

    @Test func aCampaignPreviewCountsRowsPastTheCapAsInvalid() async throws {
        try await H.run(sendLimits: Self.limits) { h in
            try await h.test { client in
                let (cookie, csrf) = try await H.signIn(client)
                try await Self.send(client, cookie, csrf, to: "85291234567")
                let csv = "number\n85291234501\n85291234502\n6581234567\n"
                let form = [("csv_text", csv), ("text", "Sale"), ("type", "MKT")]
                let r = try await H.post(client, "/console/campaigns", cookie: cookie, csrf: csrf, form)
                #expect(r.status == .seeOther)
                let c = try #require(try await h.store.campaigns(account: "acme").first)
                // One of the day's two parts is used: one row fits, the others are past the cap.
                #expect(c.validRows == 1 && c.invalidRows == 2 && c.parts == 1)
                #expect(c.invalidReport.hasPrefix("line 3: 85291234502: OUT_OF_SERVICE: This account reached its cap"))
                let rows = try await h.store.campaignRows(id: c.id, from: 0, limit: 10)
                #expect(rows.map(\.to) == ["85291234501"])
            }
        }
    }

    @Test func aCampaignPreviewCountsNumbersOverTheirPerNumberLimitAsInvalid() async throws {
        let limits = SendLimits(perNumber: NumberLimits(byType: [.notify: WindowCounts(day: 1)]))
        try await H.run(sendLimits: limits) { h in
            try await h.test { client in
                let (cookie, csrf) = try await H.signIn(client)
                try await Self.send(client, cookie, csrf, to: "85291234567")
                let csv = "number\n85291234567\n85291234568\n"
                for type in ["NOTIFY", "MKT"] {
                    let form = [("csv_text", csv), ("text", "Sale"), ("type", type)]
                    let r = try await H.post(client, "/console/campaigns", cookie: cookie, csrf: csrf, form)
                    #expect(r.status == .seeOther)
                }
                let made = try await h.store.campaigns(account: "acme").sorted { $0.id < $1.id }
                // NOTIFY: the number that had its NOTIFY today is invalid; MKT has no per-number limit.
                #expect(made.map(\.validRows) == [1, 2])
                #expect(
                    made.first?.invalidReport
                        == "line 2: 85291234567: isv.BUSINESS_LIMIT_DAY: 85291234567 already received 1 NOTIFY "
                        + "messages from this account in the last day; the limit is 1."
                )
            }
        }
    }

    @Test func capUseLevelsAndShare() {
        let caps = [SendCap(account: "a", country: "HK", hour: 10, day: 100, warnAt: 0.8)]
        let now = H.now
        let hour = CapWindow.hour.period(now)
        let counters = [
            CapCounter(
                account: "a",
                key: CapKey(country: "HK", window: .hour, start: hour.start),
                end: hour.end,
                parts: 12
            ),
            CapCounter(account: "a", key: CapKey(country: "HK", window: .day, start: 0), end: 1, parts: 99),
        ]
        let uses = CapUse.of(caps, counters: counters, nowMs: now)
        #expect(uses.map(\.window) == [.hour, .day])
        #expect(uses[0].used == 12 && uses[0].level == .reached && uses[0].share == 1 && uses[0].end == hour.end)
        // A counter of another period does not count for this one.
        #expect(uses[1].used == 0 && uses[1].level == .ok)
        var u = uses[1]
        u.used = 80
        #expect(u.level == .warning)
        u.warnAt = nil
        #expect(u.level == .ok)
    }

    @Test func hostileAccountNamesAreText() {
        let html = Console.limitsSection("<b>x</b>", nil, [], nowMs: H.now)
        #expect(html.text.contains("Account &lt;b&gt;x&lt;/b&gt;") && !html.text.contains("<b>x"))
        let line = Console.bannerLine(
            CapUse(account: "<i>", country: nil, window: .day, used: 3, limit: 2, warnAt: nil, end: 0)
        )
        let banner: HTML = "<li>\(line)</li>"
        #expect(banner.text.contains("account &lt;i&gt;"))
    }
}
