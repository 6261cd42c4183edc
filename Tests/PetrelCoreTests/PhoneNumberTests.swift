import Testing

@testable import PetrelCore

@Suite struct DigitPatternTests {
    @Test func wholeMatchAndQuantifiers() throws {
        let p = try DigitPattern("8[0-46-9]\\d{6,7}|9\\d{4,7}|(?:[2-7]|9\\d{3})\\d{7}")
        #expect(p.matches([8, 1, 2, 3, 4, 5, 6, 7]))
        #expect(!p.matches([8, 5, 2, 3, 4, 5, 6, 7]))
        #expect(p.matches([9, 1, 2, 3, 4]))
        #expect(!p.matches([9, 1, 2, 3]))
        #expect(!p.matches([0, 0, 0, 0, 0, 0, 0, 1]))
        let optional = try DigitPattern("1?2{2}")
        #expect(optional.matches([2, 2]) && optional.matches([1, 2, 2]) && !optional.matches([1, 2]))
    }

    @Test func prefixes() throws {
        let p = try DigitPattern("0|00")
        #expect(p.prefixEnds([0, 0, 7]) == [1, 2])
        #expect(!p.matchesPrefix([7, 0]))
    }

    @Test func rejectsUnsupportedSyntax() {
        #expect(throws: (any Error).self) { try DigitPattern("a+") }
        #expect(throws: (any Error).self) { try DigitPattern("(12") }
        #expect(throws: (any Error).self) { try DigitPattern("[9-1]") }
    }

    @Test func everyPatternOfTheDataParses() {
        let plan = NumberingPlan.shared
        #expect(plan.regionsByISO.count > 240)
        #expect(plan.regionsByISO["HK"]?.mobile != nil)
    }
}

@Suite struct PhoneNumberTests {
    func parse(_ s: String) -> PhoneNumber? { try? PhoneNumber.parse(s).get() }

    @Test func validNumbersAcrossRegions() {
        #expect(parse("85291234567")?.region == "HK")
        #expect(parse("+85291234567")?.digits == "85291234567")
        #expect(parse("0085291234567")?.digits == "85291234567")
        #expect(parse("6590000003")?.type == .mobile)
        #expect(parse("14155552671")?.region == "US")
        #expect(parse("16135550123")?.region == "CA")
        #expect(parse("447400123456")?.region == "GB")
        #expect(parse("85366123456")?.region == "MO")
        #expect(parse("886912345678")?.region == "TW")
    }

    @Test func invalidNumbers() {
        #expect(PhoneNumber.parse("85200000001") == .failure(.invalidNumber))
        #expect(PhoneNumber.parse("8529123456a") == .failure(.invalidCharacters))
        #expect(PhoneNumber.parse("852 9123 4567") == .failure(.invalidCharacters))
        #expect(PhoneNumber.parse("") == .failure(.invalidLength))
        #expect(PhoneNumber.parse("123") == .failure(.invalidLength))
        #expect(PhoneNumber.parse("99912345678") == .failure(.unknownCallingCode))
        #expect(PhoneNumber.parse("852912345678901234") == .failure(.invalidLength))
        #expect(PhoneNumber.parse("++85291234567") == .failure(.invalidCharacters))
    }

    @Test func nationalPrefixAfterCallingCodeIsTolerated() {
        #expect(parse("4407400123456")?.digits == "447400123456")
    }

    @Test func chineseMainlandIsRecognised() {
        #expect(parse("8613800138000")?.isChineseMainland == true)
        #expect(parse("85291234567")?.isChineseMainland == false)
    }

    @Test func numberDetail() throws {
        let hk = try #require(parse("85291234567"))
        let detail = NumberDetail(hk)
        #expect(detail.country == "Hong Kong")
        #expect(detail.region == "HK")
        let sg = try #require(parse("6581234567"))
        #expect(NumberDetail(sg).country == "Singapore")
    }

    /// The carrier is the one of the longest prefix in libphonenumber's carrier data that starts the number:
    /// checked against a plain string-prefix search over the same data, for every prefix it lists.
    @Test func carrierIsTheLongestListedPrefix() {
        var names: [String] = []
        var byPrefix: [String: String] = [:]
        var keys: [(String, Int)] = []
        for line in NumberingPlanData.carriers.split(separator: "\n") {
            let f = line.split(separator: "\t", maxSplits: 2).map(String.init)
            guard f.count == 3 else { continue }
            if f[0] == "N" { names.append(f[2]) } else if f[0] == "K" { keys.append((f[1], Int(f[2])!)) }
        }
        for (prefix, index) in keys { byPrefix[prefix] = names[index] }
        func reference(_ digits: String) -> String? {
            var length = digits.count
            while length > 0 {
                if let name = byPrefix[String(digits.prefix(length))] { return name }
                length -= 1
            }
            return nil
        }
        #expect(keys.count > 10_000)
        var mismatches: [String] = []
        for (i, (prefix, _)) in keys.enumerated() {
            let number = prefix + String(repeating: String(i % 10), count: max(0, 12 - prefix.count))
            if CarrierTable.shared.carrier(for: number) != reference(number) { mismatches.append(number) }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
        #expect(CarrierTable.shared.carrier(for: "99999999999999") == reference("99999999999999"))
        #expect(CarrierTable.shared.carrier(for: "") == nil)
    }
}
