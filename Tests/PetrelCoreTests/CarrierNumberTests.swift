import Testing

@testable import PetrelCore

/// Senders of inbound messages in national format are read as international numbers when the channel's country is
/// known, and left as they came when it is not.
@Suite struct CarrierNumberTests {
    let hk = NumberingPlan.shared.region("HK")
    let tw = NumberingPlan.shared.region("TW")

    @Test func nationalNumbersTakeTheChannelsCallingCode() {
        #expect(CarrierNumber.international("0912345678", ton: 2, country: tw) == "886912345678")
        #expect(CarrierNumber.international("91234567", ton: 2, country: hk) == "85291234567")
        #expect(CarrierNumber.international("0912345678", ton: 0, country: tw) == "886912345678")
        #expect(CarrierNumber.international("0085291234567", ton: 0, country: tw) == "85291234567")
    }

    @Test func internationalAndUnknownFormsStayAsTheyAre() {
        #expect(CarrierNumber.international("85291234567", ton: 1, country: hk) == "85291234567")
        #expect(CarrierNumber.international("+85291234567", ton: 0, country: nil) == "85291234567")
        #expect(CarrierNumber.international("85291234567", ton: 0, country: hk) == "85291234567")
        #expect(CarrierNumber.international("0912345678", ton: 2, country: nil) == "0912345678")
        // Letters (an alphanumeric sender, TON 5 or not) are never rewritten.
        #expect(CarrierNumber.international("0Bank", ton: 2, country: tw) == "0Bank")
        #expect(CarrierNumber.international("0", ton: 2, country: tw) == "0")
    }
}
