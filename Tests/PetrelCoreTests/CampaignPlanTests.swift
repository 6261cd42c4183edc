import Testing

@testable import PetrelCore

@Suite struct CampaignPlanTests {
    @Test func csvQuotesLineEndsAndBlankLines() {
        let records = CSV.parse("\u{FEFF}a,b\r\n\"x, y\",\"say \"\"hi\"\"\"\n\n\"multi\nline\",z\nlast,row")
        #expect(
            records.map(\.fields) == [["a", "b"], ["x, y", "say \"hi\""], ["multi\nline", "z"], ["last", "row"]]
        )
        #expect(records.map(\.line) == [1, 2, 4, 6])
        #expect(CSV.line(["plain", "a,b", "q\"q"]) == "plain,\"a,b\",\"q\"\"q\"")
    }

    @Test func templateFillsColumnsAndNamesUnknownOnes() throws {
        let t = try CampaignTemplate("Hi ${name}, code ${ Code }!", columns: ["number", "name", "code"])
        #expect(t.render(["85291234567", "Ann", "42"]) == "Hi Ann, code 42!")
        #expect(throws: CampaignTemplate.Problem.unknownColumn("city", available: ["number", "name"])) {
            try CampaignTemplate("in ${city}", columns: ["number", "name"])
        }
        #expect(throws: CampaignTemplate.Problem.unclosed) { try CampaignTemplate("oops ${name", columns: ["name"]) }
        #expect(try CampaignTemplate("no placeholders", columns: []).usesColumns == false)
    }

    @Test func everyRowIsCheckedWithAReason() throws {
        let csv = """
            name,phone,code
            Ann,+852 9123-4567,1
            Bob,12345,2
            Cid,+8613812345678,3
            Dee,0085291234567,4
            Eve,+6591234567
            Fay,+6591234568,\(String(repeating: "x", count: 200))
            Gil,+447911123456,7
            """
        let plan = try CampaignPlan.build(csv: csv, text: "Hi ${name}: ${code}", maxTextLength: 100)
        #expect(plan.columns == ["name", "phone", "code"])
        #expect(plan.valid.map(\.to) == ["85291234567", "447911123456"])
        #expect(plan.valid.map(plan.text(of:)) == ["Hi Ann: 1", "Hi Gil: 7"])
        #expect(plan.renderedBytes == 18)
        #expect(plan.valid.map(\.line) == [2, 8])
        #expect(plan.invalid.map(\.line) == [3, 4, 5, 6, 7])
        #expect(
            plan.invalid.map(\.reportLine) == [
                "line 3: 12345: not a valid number in its country's numbering plan",
                "line 4: +8613812345678: numbers of the Chinese mainland (+86) cannot be sent to",
                "line 5: 0085291234567: duplicate of line 2",
                "line 6: +6591234567: has 2 fields; the header has 3",
                "line 7: +6591234568: the text is too long. The text is 208 GSM 7-bit characters (septets) long; at most 100 are accepted.",
            ]
        )
        #expect(plan.totalRows == 7 && plan.parts == 2)
    }

    /// Issue 20 F5: the bound counted grapheme clusters, so one letter with 40,000 combining marks (40,001
    /// UCS-2 units, 598 parts) passed as one character.
    @Test func rowsOutsideTheAccountsCountriesAreInvalidWithTheReason() throws {
        let csv = "number\n85291234567\n6581234567\n60123456789\n"
        let plan = try CampaignPlan.build(csv: csv, text: "hi", countries: .allow(["HK", "MY"]))
        #expect(plan.valid.map(\.to) == ["85291234567", "60123456789"])
        #expect(plan.invalid.map(\.reason) == ["its country (SG) is not allowed by limits.countries"])
        #expect(plan.invalid.map(\.line) == [3])
        let denied = try CampaignPlan.build(csv: csv, text: "hi", countries: .deny(["HK"]))
        #expect(denied.valid.map(\.to) == ["6581234567", "60123456789"])
    }

    @Test func rowsAreBoundedByEncodedUnitsAndParts() throws {
        let marks = "e" + String(repeating: "\u{301}", count: 40_000)
        let csv = "number,v\n85291234567,\(marks)\n85291234568,ok\n85291234569,\(String(repeating: "€", count: 801))\n"
        let plan = try CampaignPlan.build(csv: csv, text: "${v}", maxTextLength: 1600)
        #expect(plan.valid.map(\.to) == ["85291234568"])
        #expect(
            plan.invalid.map(\.reason) == [
                "the text is too long. The text is 40001 UCS-2 code units long; at most 1600 are accepted.",
                // € is an extension character: two septets each.
                "the text is too long. The text is 1602 GSM 7-bit characters (septets) long; at most 1600 are accepted.",
            ]
        )
        // With a high unit limit the 255-part bound still holds.
        let parts = try CampaignPlan.build(
            csv: "number,v\n85291234567,\(marks)\n",
            text: "${v}",
            maxTextLength: 100_000
        )
        #expect(
            parts.invalid.map(\.reason) == ["the text is too long. The text needs 598 parts; at most 255 are accepted."]
        )
    }

    @Test func segmentsAndPartsFollowTheEncoding() throws {
        let plan = try CampaignPlan.build(
            csv: "number,greeting\n85291234567,\(String(repeating: "a", count: 150))\n85291234568,你好\n",
            text: "${greeting} and more text"
        )
        #expect(plan.valid.map(\.segments) == [2, 1])
        #expect(plan.parts == 3 && plan.segmentsHistogram == [2: 1, 1: 1])
    }

    @Test func aFileOfNumbersHasNoHeader() throws {
        let plan = try CampaignPlan.build(csv: "+85291234567\n+85291234568\n", text: "Sale today")
        #expect(plan.columns == ["number"] && plan.valid.count == 2 && plan.invalid.isEmpty)
    }

    @Test func wholeCampaignProblems() {
        #expect(throws: CampaignPlan.Problem.empty) { try CampaignPlan.build(csv: "\n\n", text: "x") }
        #expect(throws: CampaignPlan.Problem.emptyText) { try CampaignPlan.build(csv: "85291234567", text: "") }
        #expect(throws: CampaignPlan.Problem.template(.unknownColumn("nme", available: ["number", "name"]))) {
            try CampaignPlan.build(csv: "number,name\n85291234567,Ann", text: "Hi ${nme}")
        }
    }

    @Test func invalidRowsComeBackAsACSVToFixInFileOrder() throws {
        let plan = try CampaignPlan.build(
            csv: "number,error\n85291234567,a\n12,\"b, c\"\n85291234567,d\n",
            text: "Hi ${error}"
        )
        #expect(
            plan.invalidCSV
                == "number,error,petrel_error\n12,\"b, c\",line 3: 12: \(plan.invalid[0].reason)\n"
                + "85291234567,d,line 4: 85291234567: duplicate of line 2"
        )
        #expect(try CampaignPlan.build(csv: "85291234567\n", text: "x").invalidCSV == "")
    }

    @Test func theInvalidRowsCSVRunsNoFormulaInASpreadsheetAndReadsBackAsUploaded() throws {
        // A name that a spreadsheet would run, a number with a +, a number that is not one.
        let upload = "number,name\n+85291234567,Ann\n+12,\"=HYPERLINK(\"\"http://x\"\")\"\n-5,@SUM(A1)\n"
        let plan = try CampaignPlan.build(csv: upload, text: "Hi ${name}")
        let csv = plan.invalidCSV
        let lines = csv.split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        #expect(lines[1].hasPrefix("'+12,\"'=HYPERLINK(\"\"http://x\"\")\","))
        #expect(lines[2].hasPrefix("'-5,'@SUM(A1),"))
        for line in lines.dropFirst() {
            for field in CSV.parse(line)[0].fields {
                #expect(!"=+-@".contains(field.first ?? " "), "a field a spreadsheet would run: \(field)")
            }
        }
        // Uploaded again (fixed or not), the values are the ones first uploaded.
        let again = try CampaignPlan.build(csv: csv, text: "Hi ${name}")
        #expect(again.invalid.map(\.fields) == plan.invalid.map { $0.fields + [$0.reportLine] })
        #expect(again.invalid.map(\.number) == ["+12", "-5"])
        #expect(CSV.unguarded("'it's") == "'it's" && CSV.spreadsheetSafe("plain") == "plain")
    }
}
