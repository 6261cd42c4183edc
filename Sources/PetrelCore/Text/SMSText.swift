/// How a text travels as SMS: its encoding and its parts.
public struct SMSText: Sendable, Equatable {
    public enum Encoding: String, Sendable, Codable {
        case gsm7 = "GSM"  // GSM 03.38, data_coding 0: 160 septets alone, 153 per part of a long message
        case ucs2 = "UCS2"  // UTF-16, data_coding 8: 70 units alone, 67 per part

        public var singleLimit: Int { self == .gsm7 ? 160 : 70 }
        public var partLimit: Int { self == .gsm7 ? 153 : 67 }
    }

    public let encoding: Encoding
    /// Septets (GSM) or UTF-16 code units (UCS-2) of the whole text.
    public let units: Int
    /// The text split into parts; one part when it fits a single message. Characters are never split.
    public let parts: [Substring]

    public var segments: Int { parts.count }

    public init(_ text: String) {
        var septets = 0
        var gsm = true
        for scalar in text.unicodeScalars {
            guard let n = GSM0338.septets(scalar) else {
                gsm = false
                break
            }
            septets += n
        }
        self.encoding = gsm ? .gsm7 : .ucs2
        self.units = gsm ? septets : text.utf16.count
        if units <= encoding.singleLimit {
            self.parts = [text[...]]
        } else {
            self.parts = Self.split(text, encoding: encoding)
        }
    }

    /// Cost of one scalar in the encoding's units.
    static func cost(_ scalar: Unicode.Scalar, _ encoding: Encoding) -> Int {
        switch encoding {
        case .gsm7: return GSM0338.septets(scalar) ?? 1
        case .ucs2: return scalar.value > 0xFFFF ? 2 : 1
        }
    }

    static func split(_ text: String, encoding: Encoding) -> [Substring] {
        var parts: [Substring] = []
        var start = text.unicodeScalars.startIndex
        var used = 0
        var index = start
        while index != text.unicodeScalars.endIndex {
            let c = cost(text.unicodeScalars[index], encoding)
            if used + c > encoding.partLimit {
                parts.append(Substring(text.unicodeScalars[start..<index]))
                start = index
                used = 0
            }
            used += c
            index = text.unicodeScalars.index(after: index)
        }
        parts.append(Substring(text.unicodeScalars[start..<index]))
        return parts
    }
}

extension SMSText {
    /// The most parts one message may have: concatenation counts parts in one octet (the UDH's and
    /// sar_total_segments), so a 256th part cannot be sent.
    public static let maxParts = 255

    /// Why the text is too long to accept: more than `maxUnits` encoded units (what the carrier counts: GSM
    /// 7-bit septets, or UCS-2 code units) or more than `maxParts` parts. Nil when it fits.
    public func lengthProblem(maxUnits: Int) -> String? {
        let unit = encoding == .gsm7 ? "GSM 7-bit characters (septets)" : "UCS-2 code units"
        if units > maxUnits {
            return "The text is \(units) \(unit) long; at most \(maxUnits) are accepted."
        }
        if segments > Self.maxParts {
            return "The text needs \(segments) parts; at most \(Self.maxParts) are accepted."
        }
        return nil
    }
}
