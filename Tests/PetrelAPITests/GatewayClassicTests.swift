import Foundation
import PetrelCore
import PetrelStore
import Testing

@testable import PetrelAPI

/// dysmsapi 2017-05-25 through the RPC door: SendSms shares the 2018 accept path and its limits, answering in
/// 2017's codes; messages remember their version.
extension GatewayTests {
    func classic(_ h: Harness, _ action: String, _ params: [(String, String)]) async -> Decoded {
        await h.call(h.signer.v3(action, params, date: Self.date, version: "2017-05-25"))
    }

    func addTemplate(_ h: Harness) async throws {
        try await h.store.putTemplate(
            TemplateRecord(account: "acme", code: "SMS_1", text: "Code ${code}", createdAtMs: 0)
        )
    }

    static let sms = [("SignName", "Petrel"), ("TemplateCode", "SMS_1"), ("TemplateParam", #"{"code":"1"}"#)]

    @Test(arguments: Door.allCases) func sendSmsStoresClassicMessagesWithABizId(door: Door) async throws {
        try await harness(door) { h in
            try await addTemplate(h)
            let r = await classic(
                h,
                "SendSms",
                [("PhoneNumbers", "13800138000, 85291234567"), ("OutId", "o-1")] + Self.sms
            )
            #expect(r.status == 200)
            #expect(r["Code"] == "OK")
            #expect(r["ResponseCode"] == nil)
            let bizText = try #require(r["BizId"])
            let biz = try #require(QuerySendDetails.bizId(bizText))
            #expect(r["BizId"] == "\(biz)^0")
            let first = try #require(try await h.store.message(id: biz, account: "acme"))
            let second = try #require(try await h.store.message(id: biz + 1, account: "acme"))
            #expect(first.bizId == biz && second.bizId == biz)
            #expect(second.to == "85291234567")
            #expect(first.to == "8613800138000")
            #expect(first.api == .classic)
            #expect(first.templateCode == "SMS_1")
            #expect(first.taskId == "o-1")
            #expect(first.text == "Code 1")
            // QueryMessage (2018-05-01) does not see it.
            let q = await h.send("QueryMessage", [("MessageId", String(biz))])
            #expect(q["ResponseCode"] == "INVALID_PARAMETERS")
        }
    }

    @Test(arguments: Door.allCases) func sendSmsLimitsAnswerIn2017Codes(door: Door) async throws {
        try await harness(door, sendLimits: Self.sendLimits) { h in
            try await addTemplate(h)
            // "*": two a day per number; the third is refused by the store, in 2017's code, and not stored.
            #expect(await classic(h, "SendSms", [("PhoneNumbers", "85291234567")] + Self.sms)["Code"] == "OK")
            #expect(await classic(h, "SendSms", [("PhoneNumbers", "85291234567")] + Self.sms)["Code"] == "OK")
            let over = await classic(h, "SendSms", [("PhoneNumbers", "85291234567")] + Self.sms)
            #expect(over.status == 200)
            #expect(over["Code"] == "isv.BUSINESS_LIMIT_CONTROL")
            #expect(over["Message"]?.contains("85291234567") == true)
            #expect(over["BizId"] == nil)
            // SG is denied by limits.countries: alone it is refused; beside another number the send goes, saying so.
            let sg = await classic(h, "SendSms", [("PhoneNumbers", "6581234567")] + Self.sms)
            #expect(sg["Code"] == "isv.NOT_SUPPORTED_COUNTRY")
            let mixed = await classic(h, "SendSms", [("PhoneNumbers", "6581234567,85291234500")] + Self.sms)
            #expect(mixed["Code"] == "OK")
            #expect(mixed["Message"]?.hasPrefix("OK: 1 of 2 numbers were refused by limits") == true)
            let total = try await h.store.counts().values.reduce(0, +)
            #expect(total == 3)
        }
    }

    @Test(arguments: Door.allCases) func sendSmsRejectsAllOrNothing(door: Door) async throws {
        try await harness(door) { h in
            try await addTemplate(h)
            let bad = await classic(h, "SendSms", [("PhoneNumbers", "85291234567,12")] + Self.sms)
            #expect(bad["Code"] == "isv.MOBILE_NUMBER_ILLEGAL")
            let many = Array(repeating: "85291234567", count: 1001).joined(separator: ",")
            #expect(
                await classic(h, "SendSms", [("PhoneNumbers", many)] + Self.sms)["Code"]
                    == "isv.MOBILE_COUNT_OVER_LIMIT"
            )
            let total = try await h.store.counts().values.reduce(0, +)
            #expect(total == 0)
        }
    }

    /// Dates whose ids lie outside what an id holds (before 2020-01-01, or across 2298-09-26 where 43 bits of
    /// milliseconds run out) answered an empty result; they built a reversed id range and trapped.
    @Test(arguments: Door.allCases) func queriesOfDatesIdsCannotHoldAnswerEmpty(door: Door) async throws {
        try await harness(door) { h in
            try await addTemplate(h)
            #expect(await classic(h, "SendSms", [("PhoneNumbers", "85291234567")] + Self.sms)["Code"] == "OK")
            for date in ["19700101", "20191231", "22980926", "22980927", "99991231"] {
                let details = await classic(
                    h,
                    "QuerySendDetails",
                    [("PhoneNumber", "85291234567"), ("SendDate", date), ("PageSize", "10"), ("CurrentPage", "1")]
                )
                #expect(details.status == 200)
                #expect(details["Code"] == "OK")
                #expect(details["TotalCount"] == "0")
            }
            for (start, end) in [("22980920", "22981010"), ("19700101", "19700131"), ("99991201", "99991231")] {
                let stats = await classic(
                    h,
                    "QuerySendStatistics",
                    [
                        ("IsGlobe", "2"), ("StartDate", start), ("EndDate", end), ("PageIndex", "1"),
                        ("PageSize", "10"),
                    ]
                )
                #expect(stats.status == 200)
                #expect(stats["Code"] == "OK")
            }
        }
    }

    /// A value is refused before the template is rendered: one that repeats its variable (a tenant adds templates
    /// in the console) multiplied a value as long as the request into one string per copy.
    @Test(arguments: Door.allCases) func overlongTemplateValuesAreRefusedBeforeRendering(door: Door) async throws {
        try await harness(door) { h in
            let text = String(repeating: "${v}", count: 400)
            try await h.store.putTemplate(TemplateRecord(account: "acme", code: "SMS_R", text: text, createdAtMs: 0))
            let value = String(repeating: "x", count: 3 * 1600 + 1)
            let r = await classic(
                h,
                "SendSms",
                [
                    ("PhoneNumbers", "85291234567"), ("SignName", "Petrel"), ("TemplateCode", "SMS_R"),
                    ("TemplateParam", #"{"v":"\#(value)"}"#),
                ]
            )
            #expect(r["Code"] == "isv.PARAM_LENGTH_LIMIT")
            #expect(r["Message"]?.contains("value is longer than a message may be") == true)
            let batch = await classic(
                h,
                "SendBatchSms",
                [
                    ("PhoneNumberJson", #"["85291234567"]"#), ("SignNameJson", #"["Petrel"]"#),
                    ("TemplateCode", "SMS_R"), ("TemplateParamJson", #"[{"v":"\#(value)"}]"#),
                ]
            )
            #expect(batch["Code"] == "isv.PARAM_LENGTH_LIMIT")
            #expect(batch["Message"]?.contains("value is longer than a message may be") == true)
            // A value that fits is rendered as before.
            try await addTemplate(h)
            let ok = await classic(
                h,
                "SendSms",
                [
                    ("PhoneNumbers", "85291234567"), ("SignName", "Petrel"), ("TemplateCode", "SMS_1"),
                    ("TemplateParam", #"{"code":"\#(String(repeating: "7", count: 100))"}"#),
                ]
            )
            #expect(ok["Code"] == "OK")
        }
    }

    /// OutId is stored by every message of the send: 255 Characters could each carry thousands of combining marks
    /// (one request of 1,000 numbers stored the same megabytes a thousand times).
    @Test(arguments: Door.allCases) func outIdIsBoundedInCodePoints(door: Door) async throws {
        try await harness(door) { h in
            try await addTemplate(h)
            let heavy = "e" + String(repeating: "\u{301}", count: 2000)
            #expect(heavy.count == 1)
            let r = await classic(h, "SendSms", [("PhoneNumbers", "85291234567"), ("OutId", heavy)] + Self.sms)
            #expect(r["Code"] == "isv.INVALID_PARAMETERS")
            #expect(r["Message"]?.contains("OutId") == true)
            let total = try await h.store.counts().values.reduce(0, +)
            #expect(total == 0)
            let fits = String(repeating: "订", count: 255)
            #expect(
                await classic(h, "SendSms", [("PhoneNumbers", "85291234567"), ("OutId", fits)] + Self.sms)["Code"]
                    == "OK"
            )
        }
    }
}
