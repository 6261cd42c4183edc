import Foundation
import PetrelCore
import PetrelStore
import Testing

@testable import PetrelAPI

/// Suppression lists through the RPC door: a phone that opted out is refused MKT (and NOTIFY where the account's
/// optOut.appliesTo says so) with isv.BLACK_KEY_CONTROL_LIMIT, never OTP.
extension GatewayTests {
    static func optedOut(_ phone: String = "85291234567", notify: Bool = false) -> OptOutBoard {
        let board = OptOutBoard()
        board.apply(account: "acme", phone: phone, optedOut: true)
        if notify { board.configure(appliesTo: [.mkt], accounts: ["acme": [.mkt, .notify]]) }
        return board
    }

    @Test(arguments: Door.allCases) func anOptedOutPhoneIsRefusedMarketingNeverOTP(door: Door) async throws {
        try await harness(door, optOut: Self.optedOut()) { h in
            let mkt = await h.send(
                "SendMessageToGlobe",
                [("To", "+85291234567"), ("Message", "sale"), ("Type", "MKT")]
            )
            #expect(mkt.status == 200)
            #expect(mkt["ResponseCode"] == "isv.BLACK_KEY_CONTROL_LIMIT")
            #expect(mkt["ResponseDescription"]?.contains("85291234567 opted out") == true)
            #expect(mkt["MessageId"] == nil)
            #expect(await h.send("SendMessageToGlobe", otp("85291234567"))["ResponseCode"] == "OK")
            let notify = [("To", "85291234567"), ("Message", "your parcel"), ("Type", "NOTIFY")]
            #expect(await h.send("SendMessageToGlobe", notify)["ResponseCode"] == "OK")
            // Another phone, another account's list: they go.
            let other = [("To", "85291234568"), ("Message", "sale"), ("Type", "MKT")]
            #expect(await h.send("SendMessageToGlobe", other)["ResponseCode"] == "OK")
            try await h.store.putTemplate(
                TemplateRecord(account: "acme", code: "SMS_7", text: "Sale ${p}", createdAtMs: 0)
            )
            let template = await h.send(
                "SendMessageWithTemplate",
                [
                    ("To", "85291234567"), ("From", "Acme"), ("TemplateCode", "SMS_7"),
                    ("TemplateParam", #"{"p":"1"}"#), ("Type", "MKT"),
                ]
            )
            #expect(template["ResponseCode"] == "isv.BLACK_KEY_CONTROL_LIMIT")
            #expect(try await h.store.counts().values.reduce(0, +) == 3)
        }
    }

    @Test(arguments: Door.allCases) func batchRecipientsThatOptedOutGoToFailedList(door: Door) async throws {
        try await harness(door, optOut: Self.optedOut(notify: true)) { h in
            let to = #"["6581234567", "85291234567"]"#
            let r = await h.send(
                "BatchSendMessageToGlobe",
                [("To", to), ("Message", #"["a", "b"]"#), ("Type", "NOTIFY")]
            )
            #expect(r["ResponseCode"] == "OK" && r["SuccessCount"] == "1")
            #expect(r["FailedList"] == #"["85291234567"]"#)
            let none = await h.send("BatchSendMessageToGlobe", [("To", #"["85291234567"]"#), ("Message", #"["c"]"#)])
            #expect(none["ResponseCode"] == "isv.BLACK_KEY_CONTROL_LIMIT")
        }
    }

    /// 2017-05-25's messages are NOTIFY: refused where the account's appliesTo has NOTIFY, in that API's code.
    @Test(arguments: Door.allCases) func sendSmsAnswersItsOwnCode(door: Door) async throws {
        try await harness(door, optOut: Self.optedOut(notify: true)) { h in
            try await addTemplate(h)
            let r = await classic(h, "SendSms", [("PhoneNumbers", "85291234567")] + Self.sms)
            #expect(r["Code"] == "isv.BLACK_KEY_CONTROL_LIMIT")
            #expect(r["Message"]?.contains("opted out") == true)
            #expect(await classic(h, "SendSms", [("PhoneNumbers", "6581234567")] + Self.sms)["Code"] == "OK")
        }
        try await harness(door, optOut: Self.optedOut()) { h in
            try await addTemplate(h)
            #expect(await classic(h, "SendSms", [("PhoneNumbers", "85291234567")] + Self.sms)["Code"] == "OK")
        }
    }

    /// Petrel's own confirmation goes to the phone that just opted out.
    @Test func theConfirmationIsExempt() async throws {
        try await harness(.task, optOut: Self.optedOut()) { h in
            let params = [("To", "85291234567"), ("Message", "You will get no more"), ("Type", "MKT")]
            let refused = try await h.gateway.prepare(
                action: "SendMessageToGlobe",
                account: "acme",
                parameters: params,
                nowMs: Self.nowMs
            )
            #expect(refused.writes.messages.isEmpty)
            let exempt = try await h.gateway.prepare(
                action: "SendMessageToGlobe",
                account: "acme",
                parameters: params,
                nowMs: Self.nowMs,
                optOutExempt: true
            )
            #expect(exempt.writes.messages.count == 1)
        }
    }
}
