/// A valid international phone number.
public struct PhoneNumber: Sendable, Hashable {
    public let callingCode: Int
    public let nationalNumber: String
    public let region: String
    public let type: NumberingPlan.NumberType

    init(callingCode: Int, nationalDigits: [UInt8], region: String, type: NumberingPlan.NumberType) {
        self.callingCode = callingCode
        self.nationalNumber = String(decoding: nationalDigits.map { $0 + UInt8(ascii: "0") }, as: UTF8.self)
        self.region = region
        self.type = type
    }

    /// E.164 without the plus sign, the form Alibaba's API uses: "85291234567".
    public var digits: String { "\(callingCode)\(nationalNumber)" }

    /// Numbers of the Chinese mainland (+86). Hong Kong (+852), Macao (+853) and Taiwan (+886) are not.
    public var isChineseMainland: Bool { callingCode == 86 }

    public static func parse(_ raw: some StringProtocol) -> Result<PhoneNumber, PhoneNumberError> {
        NumberingPlan.shared.parse(String(raw))
    }

    public static func parse(_ raw: String) -> Result<PhoneNumber, PhoneNumberError> {
        NumberingPlan.shared.parse(raw)
    }
}

/// Carrier, country and region of a number, as `NumberDetail` reports them.
public struct NumberDetail: Sendable, Hashable, Codable {
    public var carrier: String
    public var country: String
    public var region: String

    public init(carrier: String, country: String, region: String) {
        self.carrier = carrier
        self.country = country
        self.region = region
    }

    public init(_ number: PhoneNumber) {
        self.carrier = CarrierTable.shared.carrier(for: number.digits) ?? ""
        self.country = NumberingPlan.shared.region(number.region)?.countryName ?? ""
        self.region = number.region
    }

    public static let empty = NumberDetail(carrier: "", country: "", region: "")
}

/// Mobile carriers by number prefix, from libphonenumber's carrier data (English names).
struct CarrierTable: Sendable {
    static let shared = CarrierTable(data: NumberingPlanData.carriers)

    /// Keyed by the prefix's value: prefixes start with a calling code, never with 0, so the value names the
    /// digits (and looking one up hashes an integer instead of building a string per length tried).
    let prefixes: [Int: Int]
    let names: [String]
    let longest: Int

    init(data: String) {
        var names: [String] = []
        var prefixes: [Int: Int] = [:]
        var longest = 0
        for line in data.split(separator: "\n") {
            let f = line.split(separator: "\t", maxSplits: 2)
            guard f.count == 3 else { continue }
            if f[0] == "N" {
                names.append(String(f[2]))
            } else if f[0] == "K", let index = Int(f[2]), let key = decimalValue(f[1].utf8, maxDigits: 18),
                f[1].first != "0"
            {
                prefixes[key] = index
                longest = max(longest, f[1].utf8.count)
            }
        }
        self.names = names
        self.prefixes = prefixes
        self.longest = longest
    }

    func carrier(for digits: String) -> String? {
        // The value of the longest prefix tried; dropping its last digit gives the next shorter one.
        var v = 0
        var length = 0
        for b in digits.utf8 {
            guard length < longest, length < 18, b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") else { break }
            v = v * 10 + Int(b - UInt8(ascii: "0"))
            length += 1
        }
        while length > 0 {
            if let index = prefixes[v], index < names.count { return names[index] }
            v /= 10
            length -= 1
        }
        return nil
    }
}
