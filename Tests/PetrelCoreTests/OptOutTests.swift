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

@Suite struct CampaignOptOutTests {
    /// A campaign's preview shows a row whose number opted out as invalid, with the refusal as the reason.
    @Test func optedOutRowsAreInvalidWithTheReason() throws {
        var plan = try CampaignPlan.build(csv: "number\n85291234567\n85291234568\n", text: "Sale today")
        let board = OptOutBoard()
        board.apply(account: "acme", phone: "85291234568", optedOut: true)
        let bytes = plan.renderedBytes
        plan.refuseOptedOut(account: "other", type: .mkt, board: board)
        #expect(plan.valid.count == 2)
        plan.refuseOptedOut(account: "acme", type: .notify, board: board)
        #expect(plan.valid.count == 2)
        plan.refuseOptedOut(account: "acme", type: .mkt, board: board)
        #expect(plan.valid.map(\.to) == ["85291234567"] && plan.renderedBytes == bytes / 2)
        #expect(plan.invalid.map(\.line) == [3])
        #expect(plan.invalid[0].reason.hasPrefix("isv.BLACK_KEY_CONTROL_LIMIT: 85291234568 opted out"))
        #expect(board.count == 1)
    }
}

@Suite struct OptOutBoardOrderTests {
    /// Changes read from the store apply in its order: one older than the last applied (a node's own, read late)
    /// is skipped; one of the same version (read again by a second reader) changes nothing.
    @Test func anOlderChangeReadLateIsSkipped() {
        let board = OptOutBoard()
        let stop = OptOutCursor(version: 5, account: "acme", phone: "85291234567")
        let start = OptOutCursor(version: 6, account: "acme", phone: "85291234567")
        board.apply(read: [(stop, true), (start, false)])
        board.apply(read: [(stop, true)])
        #expect(!board.contains(account: "acme", phone: "85291234567") && board.count == 0 && board.read == start)
        board.apply(read: [(start, false), (OptOutCursor(version: 7, account: "acme", phone: "1"), true)])
        #expect(board.count == 1 && board.read.version == 7)
        board.replace([:], read: stop)
        #expect(board.count == 0 && board.read == stop)
    }
}
