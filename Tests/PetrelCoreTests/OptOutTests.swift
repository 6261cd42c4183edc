import PetrelCore
import Testing

@Suite struct OptOutTests {
    @Test func keywordsAreWholeRepliesTrimmedInAnyCase() {
        let k = OptOutKeywords()
        #expect(k.optsOut("STOP") == true && k.optsOut(" stop\n") == true && k.optsOut("OptOut") == true)
        #expect(k.optsOut("Start") == false && k.optsOut("unstop") == false)
        #expect(k.optsOut("stop it") == nil && k.optsOut("") == nil)
        #expect(k.optsOut(String(repeating: "STOP", count: 1000)) == nil)
        let custom = OptOutKeywords(stop: ["arrete"], start: ["go"])
        #expect(custom.optsOut("ARRETE") == true && custom.optsOut("STOP") == nil && custom.optsOut("Go") == false)
    }

    @Test func theBoardRefusesItsTypesNeverOTP() {
        let board = OptOutBoard()
        board.apply(account: "acme", phone: "85291234567", optedOut: true)
        #expect(board.refusal(account: "acme", phone: "85291234567", type: .mkt)?.code == "isv.BLACK_KEY_CONTROL_LIMIT")
        #expect(board.refusal(account: "acme", phone: "85291234567", type: .notify) == nil)
        #expect(board.refusal(account: "acme", phone: "85291234567", type: .otp) == nil)
        #expect(board.refusal(account: "other", phone: "85291234567", type: .mkt) == nil)
        board.configure(appliesTo: [.mkt], accounts: ["acme": [.mkt, .notify, .otp]])
        #expect(board.refusal(account: "acme", phone: "85291234567", type: .notify) != nil)
        #expect(board.refusal(account: "acme", phone: "85291234567", type: .otp) == nil)
        board.apply(account: "acme", phone: "85291234567", optedOut: false)
        #expect(board.refusal(account: "acme", phone: "85291234567", type: .mkt) == nil && board.count == 0)
    }
}
