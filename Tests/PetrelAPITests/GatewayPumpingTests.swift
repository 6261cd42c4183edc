import Foundation
import PetrelCore
import PetrelStore
import Testing

@testable import PetrelAPI

/// `limits.pumpingGuard` through the RPC door: sends of the guarded Type counted, conversions counted by their
/// message, and a halt on the board refusing that Type to that country with OUT_OF_SERVICE.
extension GatewayTests {
    static let otpGuard = SendLimits(pumpingGuard: PumpingGuard(type: .otp, windowMs: 3_600_000, minSent: 5))

    static func haltedHK(_ type: MessageType = .otp) -> PumpingHaltBoard {
        let board = PumpingHaltBoard()
        board.replace([
            PumpingHalt(account: "acme", country: "HK", type: type, haltedAtMs: nowMs, sent: 40, converted: 2)
        ])
        return board
    }

    func otp(_ to: String) -> [(String, String)] { [("To", to), ("Message", "code 1234"), ("Type", "OTP")] }

    @Test(arguments: Door.allCases) func aHaltRefusesItsTypeToItsCountryOnly(door: Door) async throws {
        try await harness(door, sendLimits: Self.otpGuard, halts: Self.haltedHK()) { h in
            let refused = await h.send("SendMessageToGlobe", otp("85291234567"))
            #expect(refused.status == 200)
            #expect(refused["ResponseCode"] == "OUT_OF_SERVICE")
            let why = refused["ResponseDescription"] ?? ""
            #expect(why.contains("limits.pumpingGuard halted") && why.contains("OTP messages to HK"))
            #expect(why.contains("40 sent, 2 reported converted (rate 0.05)"))
            #expect(refused["MessageId"] == nil)
            // A template's OTP too.
            try await h.store.putTemplate(
                TemplateRecord(account: "acme", code: "SMS_7", text: "Code ${code}", createdAtMs: 0)
            )
            let template = await h.send(
                "SendMessageWithTemplate",
                [
                    ("To", "85291234567"), ("From", "Acme"), ("TemplateCode", "SMS_7"),
                    ("TemplateParam", #"{"code":"1"}"#), ("Type", "OTP"),
                ]
            )
            #expect(template["ResponseCode"] == "OUT_OF_SERVICE")
            // Another country, another Type: they go.
            #expect(await h.send("SendMessageToGlobe", otp("6581234567"))["ResponseCode"] == "OK")
            let notify = [("To", "85291234567"), ("Message", "hello"), ("Type", "NOTIFY")]
            #expect(await h.send("SendMessageToGlobe", notify)["ResponseCode"] == "OK")
            let stored = try await h.store.counts().values.reduce(0, +)
            #expect(stored == 2)
        }
    }

    @Test(arguments: Door.allCases) func aHaltWithoutAGuardCoveringTheTypeRefusesNothing(door: Door) async throws {
        // The guard was taken out of the config: the halt stays in the store, the sends go.
        try await harness(door, sendLimits: nil, halts: Self.haltedHK()) { h in
            #expect(await h.send("SendMessageToGlobe", otp("85291234567"))["ResponseCode"] == "OK")
        }
    }

    @Test(arguments: Door.allCases) func batchRecipientsInAHaltedCountryGoToFailedList(door: Door) async throws {
        let limits = SendLimits(pumpingGuard: PumpingGuard(type: .notify, windowMs: 3_600_000))
        try await harness(door, sendLimits: limits, halts: Self.haltedHK(.notify)) { h in
            let to = #"["6581234567", "85291234567", "6581234568"]"#
            let r = await h.send("BatchSendMessageToGlobe", [("To", to), ("Message", #"["a", "b", "c"]"#)])
            #expect(r["ResponseCode"] == "OK")
            #expect(r["SuccessCount"] == "2")
            #expect(r["FailedList"] == #"["85291234567"]"#)
            let none = await h.send("BatchSendMessageToGlobe", [("To", #"["85291234568"]"#), ("Message", #"["d"]"#)])
            #expect(none["ResponseCode"] == "OUT_OF_SERVICE")
            #expect(none["ResponseDescription"]?.contains("limits.pumpingGuard") == true)
        }
    }

    @Test(arguments: Door.allCases) func guardedSendsAndTheirConversionsAreCounted(door: Door) async throws {
        try await harness(door, sendLimits: Self.otpGuard) { h in
            let sent = await h.send("SendMessageToGlobe", otp("85291234567"))
            let id = try #require(sent["MessageId"])
            _ = await h.send("SendMessageToGlobe", otp("85291234568"))
            _ = await h.send("SendMessageToGlobe", [("To", "85291234569"), ("Message", "hi"), ("Type", "NOTIFY")])
            let notify = await h.send(
                "SendMessageToGlobe",
                [("To", "85291234560"), ("Message", "hi"), ("Type", "NOTIFY")]
            )
            let notifyId = try #require(notify["MessageId"])
            // Converted: the OTP (twice, counted once); not the NOTIFY, not a report by To alone, not Delivered false.
            for params in [
                [("MessageId", id), ("Delivered", "true")], [("MessageId", id), ("Delivered", "true")],
                [("MessageId", notifyId), ("Delivered", "true")], [("To", "85291234568"), ("Delivered", "true")],
            ] {
                #expect(await h.send("SmsConversion", params)["ResponseCode"] == "OK")
            }
            let counts = try await h.store.pumpingCounts(type: .otp, sinceMs: Self.nowMs - 3_600_000)
            #expect(counts.map { "\($0.account) \($0.country) \($0.sent) \($0.converted)" } == ["acme HK 2 1"])
            #expect(try await h.store.pumpingCounts(type: .notify, sinceMs: 0).isEmpty)
        }
    }
}
