public import PetrelCore

/// A text with `${field}` placeholders over a message's fields (an HTTP channel's URL, headers and body), each
/// value escaped for where it goes. No template engine: a placeholder is a known field name, nothing else, so a
/// message's text can never change the shape of the request around it.
public struct MessageTemplate: Sendable, Equatable {
    public enum Field: String, Sendable, CaseIterable {
        case to, from, text, parts, messageId, type
    }

    /// How a value is written into the text.
    public enum Escaping: Sendable {
        /// Inside a JSON string: quotes, backslashes and control characters escaped.
        case json
        /// application/x-www-form-urlencoded (a space is `+`).
        case form
        /// Percent-encoded: everything but the unreserved characters of RFC 3986.
        case url
        /// A header value: control characters (CR, LF) dropped, so no header can be added.
        case header
    }

    enum Piece: Equatable {
        case literal(String)
        case field(Field)
    }

    let pieces: [Piece]
    public let source: String

    public struct Failure: Error, Equatable, CustomStringConvertible {
        public let description: String
    }

    public init(_ source: String) throws(Failure) {
        self.source = source
        var pieces: [Piece] = []
        var literal = ""
        var rest = Substring(source)
        while let dollar = rest.firstIndex(of: "$") {
            literal += rest[..<dollar]
            let after = rest.index(after: dollar)
            guard after < rest.endIndex, rest[after] == "{" else {
                literal.append("$")
                rest = rest[after...]
                continue
            }
            guard let close = rest[after...].firstIndex(of: "}") else {
                throw Failure(description: "a placeholder ${ is not closed with }")
            }
            let name = String(rest[rest.index(after: after)..<close])
            guard let field = Field(rawValue: name) else {
                let known = Field.allCases.map { "${\($0.rawValue)}" }.joined(separator: ", ")
                throw Failure(description: "${\(name)} is not a message field (known: \(known))")
            }
            if !literal.isEmpty { pieces.append(.literal(literal)) }
            literal = ""
            pieces.append(.field(field))
            rest = rest[rest.index(after: close)...]
        }
        literal += rest
        if !literal.isEmpty { pieces.append(.literal(literal)) }
        self.pieces = pieces
    }

    public var fields: Set<Field> {
        Set(pieces.compactMap { if case .field(let f) = $0 { f } else { nil } })
    }

    public func render(_ m: Message, escaping: Escaping) -> String {
        var out = ""
        for piece in pieces {
            switch piece {
            case .literal(let s): out += s
            case .field(let f): Self.escape(Self.value(f, of: m), escaping, into: &out)
            }
        }
        return out
    }

    static func value(_ field: Field, of m: Message) -> String {
        switch field {
        case .to: m.to
        case .from: m.from
        case .text: m.text
        case .parts: "\(m.segments)"
        case .messageId: "\(m.id)"
        case .type: m.type.rawValue
        }
    }

    public static func escape(_ value: String, _ escaping: Escaping, into out: inout String) {
        switch escaping {
        case .json:
            for scalar in value.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\r": out += "\\r"
                case "\t": out += "\\t"
                case _ where scalar.value < 0x20 || scalar.value == 0x2028 || scalar.value == 0x2029:
                    out += "\\u" + hex4(scalar.value)
                default: out.unicodeScalars.append(scalar)
                }
            }
        case .form, .url:
            for byte in value.utf8 {
                if isUnreserved(byte, form: escaping == .form) {
                    out.unicodeScalars.append(Unicode.Scalar(byte))
                } else if byte == UInt8(ascii: " "), escaping == .form {
                    out += "+"
                } else {
                    out += "%" + hex2(byte)
                }
            }
        case .header:
            for scalar in value.unicodeScalars where scalar.value >= 0x20 && scalar.value != 0x7F {
                out.unicodeScalars.append(scalar)
            }
        }
    }

    static func isUnreserved(_ b: UInt8, form: Bool) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"):
            true
        case UInt8(ascii: "~"): !form
        case UInt8(ascii: "*"): form
        default: false
        }
    }

    static let digits = Array("0123456789ABCDEF".unicodeScalars)

    static func hex2(_ b: UInt8) -> String {
        String(String.UnicodeScalarView([digits[Int(b >> 4)], digits[Int(b & 0xF)]]))
    }

    static func hex4(_ v: UInt32) -> String {
        String(String.UnicodeScalarView((0..<4).reversed().map { digits[Int((v >> (UInt32($0) * 4)) & 0xF)] }))
    }
}
