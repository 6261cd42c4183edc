/// The country calling code a stored recipient (E.164 digits without "+") starts with: the key statistics count a
/// message's country by. Calling codes are a prefix code (no code starts another), so the first one, two or three
/// digits name at most one; the stores compute the same key in SQL from the same list (`all`).
public enum CallingCode {
    /// Every calling code of the numbering plan, as text ("1", "44", "852").
    public static let all: [String] = NumberingPlan.shared.regionsByCode.keys.sorted().map(String.init)
    private static let known = Set(all)

    /// "852" for "85291234567"; "" when the digits start with no known code.
    public static func of(_ digits: String) -> String {
        var prefix = ""
        for ch in digits.prefix(3) {
            prefix.append(ch)
            if known.contains(prefix) { return prefix }
        }
        return ""
    }

    /// "+852 Hong Kong"; for a shared code its main region and how many others ("+1 United States and 24 more");
    /// "unknown" for "".
    public static func label(_ code: String) -> String {
        code.isEmpty ? "unknown" : "+\(code) \(name(code))"
    }

    /// "Hong Kong", "United States and 24 more"; "" for a code the plan does not know.
    public static func name(_ code: String) -> String {
        guard let n = Int(code), let regions = NumberingPlan.shared.regionsByCode[n], let main = regions.first else {
            return ""
        }
        return main.countryName + (regions.count > 1 ? " and \(regions.count - 1) more" : "")
    }
}
