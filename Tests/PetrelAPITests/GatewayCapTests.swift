import Foundation
import PetrelCore
import PetrelStore
import Testing

@testable import PetrelAPI

/// `limits.caps` through the RPC door: parts counted per account (and country), OUT_OF_SERVICE once reached.
extension GatewayTests {
    static let capLimits = SendLimits(
        caps: SendCaps([SendCap(account: "acme", day: 4), SendCap(account: "acme", country: "SG", hour: 1)])
    )

    @Test(arguments: Door.allCases) func singlesStopAtTheAccountsCapInParts(door: Door) async throws {
        try await harness(door, sendLimits: Self.capLimits) { h in
            // 200 GSM characters: two parts. Twice is the day's cap of 4 parts.
            let long = [("To", "85291234567"), ("Message", String(repeating: "a", count: 200))]
            #expect(await h.send("SendMessageToGlobe", long)["ResponseCode"] == "OK")
            #expect(await h.send("SendMessageToGlobe", long)["ResponseCode"] == "OK")
            let over = await h.send("SendMessageToGlobe", [("To", "85291234568"), ("Message", "hi")])
            #expect(over.status == 200)
            #expect(over["ResponseCode"] == "OUT_OF_SERVICE")
            #expect(over["ResponseDescription"]?.contains("cap of 4 parts per calendar day") == true)
            #expect(over["MessageId"] == nil)
            let total = try await h.store.counts().values.reduce(0, +)
            #expect(total == 2)
        }
    }

    @Test(arguments: Door.allCases) func batchRecipientsPastACapGoToFailedList(door: Door) async throws {
        try await harness(door, sendLimits: Self.capLimits) { h in
            // SG: one part an hour. The second SG recipient is refused, the HK ones go.
            let to = #"["6581234567", "85291234567", "6581234568", "85291234568"]"#
            let r = await h.send("BatchSendMessageToGlobe", [("To", to), ("Message", #"["a", "b", "c", "d"]"#)])
            #expect(r["ResponseCode"] == "OK")
            #expect(r["SuccessCount"] == "3")
            #expect(r["FailedList"] == #"["6581234568"]"#)
            // One part left today: of two more, the first goes; nothing left after that answers the cap's code.
            let two = await h.send(
                "BatchSendMessageToGlobe",
                [("To", #"["85291234569", "85291234560"]"#), ("Message", #"["e", "f"]"#)]
            )
            #expect(two["SuccessCount"] == "1")
            #expect(two["FailedList"] == #"["85291234560"]"#)
            let none = await h.send("BatchSendMessageToGlobe", [("To", #"["85291234561"]"#), ("Message", #"["g"]"#)])
            #expect(none["ResponseCode"] == "OUT_OF_SERVICE")
            #expect(none["SuccessCount"] == "0")
            let total = try await h.store.counts().values.reduce(0, +)
            #expect(total == 4)
        }
    }
}
