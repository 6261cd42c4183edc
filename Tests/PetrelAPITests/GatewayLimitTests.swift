import Foundation
import PetrelCore
import PetrelStore
import Testing

@testable import PetrelAPI

/// `limits:` through the RPC door: refusals answered with Alibaba's codes, refused messages never stored.
extension GatewayTests {
    static let sendLimits = SendLimits(
        perNumber: NumberLimits(byType: [.otp: WindowCounts(minute: 1, day: 10)], anyType: WindowCounts(day: 2)),
        countries: .deny(["SG"])
    )

    @Test(arguments: Door.allCases) func singleOverPerNumberLimitIsRefusedAndNotStored(door: Door) async throws {
        try await harness(door, sendLimits: Self.sendLimits) { h in
            let otp = [("To", "85291234567"), ("Message", "code 1"), ("Type", "OTP")]
            let first = await h.send("SendMessageToGlobe", otp)
            #expect(first["ResponseCode"] == "OK")
            let second = await h.send("SendMessageToGlobe", otp)
            #expect(second.status == 200)
            #expect(second["ResponseCode"] == "BUSINESS_LIMIT_CONTROL_MINUTE")
            #expect(second["ResponseDescription"]?.contains("85291234567 already received 1 OTP messages") == true)
            #expect(second["MessageId"] == nil)
            var total = try await h.store.counts().values.reduce(0, +)
            #expect(total == 1)
            // A minute later the OTP limit lets it go, but "*" (2 a day) counts it as the second and last.
            h.clock.ms += 60_000
            #expect(await h.send("SendMessageToGlobe", otp)["ResponseCode"] == "OK")
            let third = await h.send("SendMessageToGlobe", [("To", "85291234567"), ("Message", "hi")])
            #expect(third["ResponseCode"] == "isv.BUSINESS_LIMIT_DAY")
            total = try await h.store.counts().values.reduce(0, +)
            #expect(total == 2)
        }
    }

    @Test(arguments: Door.allCases) func singleToADeniedCountryIsRefused(door: Door) async throws {
        try await harness(door, sendLimits: Self.sendLimits) { h in
            let r = await h.send("SendMessageToGlobe", [("To", "6581234567"), ("Message", "hi")])
            #expect(r.status == 200)
            #expect(r["ResponseCode"] == "isv.NOT_SUPPORTED_COUNTRY")
            #expect(r["ResponseDescription"]?.contains("(SG)") == true)
            let total = try await h.store.counts().values.reduce(0, +)
            #expect(total == 0)
        }
    }

    @Test(arguments: Door.allCases) func batchListsRefusedRecipientsInFailedList(door: Door) async throws {
        try await harness(door, sendLimits: Self.sendLimits) { h in
            // Three to one number ("*": 2 a day), one to a denied country, one invalid, one other number.
            let to = #"["85291234567", "6581234567", "85291234567", "85200000001", "85291234567", "85291234568"]"#
            let msg = #"["a", "b", "c", "d", "e", "f"]"#
            let r = await h.send("BatchSendMessageToGlobe", [("To", to), ("Message", msg)])
            #expect(r["ResponseCode"] == "OK")
            #expect(r["SuccessCount"] == "3")
            #expect(r["FailedList"] == #"["6581234567","85200000001","85291234567"]"#)
            let idList = try #require(r["MessageIdList"])
            let ids = try #require(JSONStringArray.parse(idList))
            #expect(ids.count == 3)
            for id in ids {
                let stored = try await h.store.message(id: Int64(id)!, account: "acme")
                #expect(stored != nil)
            }
            let total = try await h.store.counts().values.reduce(0, +)
            #expect(total == 3)
            // Nothing left: the first refusal's code.
            let none = await h.send(
                "BatchSendMessageToGlobe",
                [("To", #"["85291234567", "6581234567"]"#), ("Message", #"["x", "y"]"#)]
            )
            #expect(none["ResponseCode"] == "isv.BUSINESS_LIMIT_DAY")
            #expect(none["SuccessCount"] == "0")
            #expect(none["FailedList"] == #"["85291234567","6581234567"]"#)
        }
    }
}
