/// The GSM 03.38 default alphabet and its extension table (3GPP TS 23.038 §6.2.1).
public enum GSM0338 {
    /// The 128 characters of the default alphabet, in septet order. 0x1B is the escape to the extension table.
    static let basic: [Unicode.Scalar] = Array(
        "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u{1B}ÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
            .unicodeScalars
    )

    /// Extension-table characters: each is sent as ESC followed by this septet, so it counts twice.
    static let extended: [Unicode.Scalar: UInt8] = [
        "\u{0C}": 0x0A, "^": 0x14, "{": 0x28, "}": 0x29, "\\": 0x2F, "[": 0x3C, "~": 0x3D, "]": 0x3E, "|": 0x40,
        "€": 0x65,
    ]

    /// The default alphabet (without the escape) and the extension table's characters, for the console's live
    /// counter, which counts as `SMSText` does.
    public static var alphabet: String { String(String.UnicodeScalarView(basic.filter { $0 != "\u{1B}" })) }
    public static var extensionCharacters: String { String(String.UnicodeScalarView(extended.keys.sorted())) }

    static let basicIndex: [Unicode.Scalar: UInt8] = {
        var index: [Unicode.Scalar: UInt8] = [:]
        for (i, scalar) in basic.enumerated() where scalar != "\u{1B}" { index[scalar] = UInt8(i) }
        return index
    }()

    /// Septets a scalar takes: 1 (basic), 2 (extension) or nil (not in GSM 03.38).
    public static func septets(_ scalar: Unicode.Scalar) -> Int? {
        // ASCII fast path: every printable ASCII character except ` is in the basic table or the extension.
        if scalar.value < 0x80 {
            switch scalar {
            case "^", "{", "}", "\\", "[", "~", "]", "|", "\u{0C}": return 2
            case "`": return nil
            // The rest of printable ASCII, LF and CR are all in the basic table (tested against it).
            case "\n", "\r", " "..."\u{7E}": return 1
            default: return nil
            }
        }
        if basicIndex[scalar] != nil { return 1 }
        if extended[scalar] != nil { return 2 }
        return nil
    }

    /// Unpacked septets (one per byte, the usual SMPP data_coding 0 form), or nil if a character does not fit.
    public static func encode(_ text: some StringProtocol) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            if let septet = basicIndex[scalar] {
                out.append(septet)
            } else if let septet = extended[scalar] {
                out.append(0x1B)
                out.append(septet)
            } else {
                return nil
            }
        }
        return out
    }

    /// Decodes unpacked septets; unknown escapes become a space, as 23.038 suggests.
    public static func decode(_ septets: some Sequence<UInt8>) -> String {
        var scalars = String.UnicodeScalarView()
        var escaped = false
        for septet in septets {
            let s = septet & 0x7F
            if escaped {
                escaped = false
                scalars.append(extended.first(where: { $0.value == s })?.key ?? " ")
            } else if s == 0x1B {
                escaped = true
            } else {
                scalars.append(basic[Int(s)])
            }
        }
        return String(scalars)
    }
}
