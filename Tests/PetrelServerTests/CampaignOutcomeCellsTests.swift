import PetrelCore
import PetrelStore
import Testing

@testable import PetrelServer

/// How the campaign pages show a campaign's outcomes: counted ones as numbers and a rate of the final ones; a
/// campaign with accepted messages but no counters (sent before they existed) as dashes, not as all waiting.
@Suite struct CampaignOutcomeCellsTests {
    func campaign(accepted: Int) -> CampaignRecord {
        var c = CampaignRecord(
            account: "acme",
            name: "spring",
            text: "Hi",
            type: .mkt,
            from: "",
            validitySeconds: nil,
            taskId: "",
            startAtMs: nil,
            totalRows: 10,
            validRows: 10,
            invalidRows: 0,
            parts: 10,
            invalidReport: "",
            segmentsSummary: "",
            createdAtMs: 0,
            updatedAtMs: 0
        )
        c.accepted = accepted
        return c
    }

    @Test func countedUncountedAndNotSent() {
        let sent = campaign(accepted: 10)
        let counted = Console.counted(sent, CampaignOutcome(delivered: 6, failed: 1, expired: 1))
        #expect(Console.outcomeCells(sent, counted) == ["6", "1", "1", "2", "75.0%"])
        #expect(Console.outcomeCells(sent, Console.counted(sent, nil)) == ["–", "–", "–", "–", "–"])
        let draft = campaign(accepted: 0)
        #expect(Console.outcomeCells(draft, Console.counted(draft, nil)) == ["0", "0", "0", "0", "–"])
    }
}
