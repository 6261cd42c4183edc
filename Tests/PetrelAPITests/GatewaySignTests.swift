import Foundation
import PetrelCore
import PetrelStore
import Testing

@testable import PetrelAPI

/// dysmsapi 2017-05-25's signs and templates through the RPC door: audit states as each operation types them, the
/// operator's approval gating SendSms, bounded fields and pages.
extension GatewayTests {
    static let manual = SignSettings(manualApproval: true)

    @Test(arguments: Door.allCases) func manualApprovalGatesSendSms(door: Door) async throws {
        try await harness(door, signs: Self.manual) { h in
            let added = await classic(
                h,
                "AddSmsTemplate",
                [("TemplateName", "otp"), ("TemplateContent", "Code ${code}"), ("TemplateType", "0")]
            )
            #expect(added["Code"] == "OK")
            let code = try #require(added["TemplateCode"])
            #expect(code.hasPrefix("SMS_") && code.count == 13)
            let q = await classic(h, "QuerySmsTemplate", [("TemplateCode", code)])
            #expect(q.json["TemplateStatus"] as? Int == 0)
            #expect(q.json["TemplateType"] as? Int == 0)
            #expect(await classic(h, "GetSmsTemplate", [("TemplateCode", code)])["TemplateStatus"] == "0")
            let params = [("PhoneNumbers", "13800138000"), ("SignName", "Petrel"), ("TemplateCode", code)]
            let waiting = await classic(h, "SendSms", params + [("TemplateParam", #"{"code":"1"}"#)])
            #expect(waiting["Code"] == "isv.SMS_TEMPLATE_ILLEGAL")
            #expect(waiting["Message"]?.contains("waiting for approval") == true)

            #expect(await classic(h, "AddSmsSign", [("SignName", "Petrel"), ("SignSource", "1")])["Code"] == "OK")
            _ = try await h.store.reviewTemplate(account: "acme", code: code, audit: .approved, reason: "", atMs: 1)
            let unsigned = await classic(h, "SendSms", params + [("TemplateParam", #"{"code":"1"}"#)])
            #expect(unsigned["Code"] == "isv.SMS_SIGNATURE_ILLEGAL")
            _ = try await h.store.reviewSign(account: "acme", name: "Petrel", audit: .approved, reason: "", atMs: 1)
            #expect(await classic(h, "SendSms", params + [("TemplateParam", #"{"code":"1"}"#)])["Code"] == "OK")
            let other = await classic(
                h,
                "SendSms",
                [
                    ("PhoneNumbers", "13800138000"), ("SignName", "Else"), ("TemplateCode", code),
                    ("TemplateParam", #"{"code":"1"}"#),
                ]
            )
            #expect(other["Code"] == "isv.SMS_SIGNATURE_ILLEGAL")

            _ = try await h.store.reviewSign(account: "acme", name: "Petrel", audit: .rejected, reason: "no", atMs: 2)
            let list = await classic(h, "QuerySmsSignList", [])
            let signs = try #require(list.json["SmsSignList"] as? [[String: Any]])
            #expect(signs.first?["AuditStatus"] as? String == "AUDIT_STATE_NOT_PASS")
            let reason = try #require(signs.first?["Reason"] as? [String: Any])
            #expect(reason["RejectSubInfo"] as? String == "no")
            #expect(list.json["TotalCount"] as? Int == 1)
        }
    }

    @Test(arguments: Door.allCases) func fieldsAndPagesAreBounded(door: Door) async throws {
        try await harness(door) { h in
            // One Character, 41 code points: counted as 41.
            let marks = "a" + String(repeating: "\u{301}", count: 40)
            #expect(await classic(h, "AddSmsSign", [("SignName", marks)])["Code"] == "isv.PARAM_LENGTH_LIMIT")
            #expect(
                await classic(h, "AddSmsSign", [("SignName", "S"), ("SignType", "x")])["Code"]
                    == "isv.INVALID_PARAMETERS"
            )
            let noType = await classic(h, "AddSmsTemplate", [("TemplateName", "n"), ("TemplateContent", "c")])
            #expect(noType.status == 400 && noType["Code"] == "MissingTemplateType")
            for size in ["0", "51", "9999999999999999999999"] {
                let r = await classic(h, "QuerySmsTemplateList", [("PageSize", size)])
                #expect(r["Code"] == "isv.INVALID_PARAMETERS")
            }
            let far = await classic(h, "GetSmsTemplateList", [("PageIndex", "1000000"), ("PageSize", "50")])
            #expect(far["Code"] == "OK")
            let data = try #require(far.json["Data"] as? [String: Any])
            #expect(data["Total"] as? Int == 0 && (data["List"] as? [Any])?.isEmpty == true)
            #expect(
                await classic(h, "GetSmsTemplateList", [("PageIndex", "1000001")])["Code"] == "isv.INVALID_PARAMETERS"
            )
        }
    }

    /// SendMessageWithTemplate's From is the signature: a sign the operator rejected (or one never registered, for
    /// an account that registered signs) does not go out through 2018-05-01 either.
    @Test(arguments: Door.allCases) func sendMessageWithTemplateHonoursSigns(door: Door) async throws {
        try await harness(door) { h in
            try await h.store.putTemplate(
                TemplateRecord(account: "acme", code: "SMS_1", text: "Code ${code}", createdAtMs: 0)
            )
            func send(_ from: String) async -> Decoded {
                await h.send(
                    "SendMessageWithTemplate",
                    [
                        ("To", "8613800138000"), ("From", from), ("TemplateCode", "SMS_1"),
                        ("TemplateParam", #"{"code": 1234}"#),
                    ]
                )
            }
            // No sign registered: any signature goes, as before.
            #expect(await send("Anything")["ResponseCode"] == "OK")
            #expect(await classic(h, "AddSmsSign", [("SignName", "Acme")])["Code"] == "OK")
            #expect(await classic(h, "AddSmsSign", [("SignName", "Evil")])["Code"] == "OK")
            _ = try await h.store.reviewSign(account: "acme", name: "Evil", audit: .rejected, reason: "no", atMs: 1)
            #expect(await send("Acme")["ResponseCode"] == "OK")
            let rejected = await send("Evil")
            #expect(rejected["ResponseCode"] == "SMS_SIGN_NAME_ILLEGAL")
            #expect(rejected["ResponseDescription"] == "The sign Evil was rejected.")
            let unknown = await send("Anything")
            #expect(unknown["ResponseCode"] == "SMS_SIGN_NAME_ILLEGAL")
            #expect(unknown["ResponseDescription"] == "The account has no sign named Anything.")
            #expect(await send("Ac\u{0}me")["ResponseCode"] == "SMS_SIGN_NAME_ILLEGAL")
        }
    }
}
