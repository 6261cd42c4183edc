/// A response body with ordered fields, encoded as JSON (default) or XML (`Format=XML`). The RPC door, receipt
/// pushes, the console and the JSON log all write with it, so it lives here rather than in PetrelAPI.
public indirect enum ResponseValue: Sendable, Equatable {
    case string(String)
    case object([(String, ResponseValue)])
    /// A JSON number (2017-05-25 types a few fields so, e.g. SendStatus).
    case number(Int64)
    /// A JSON array; in XML each item is an element named as the array's key (Alibaba's lists).
    case array([ResponseValue])
    /// A JSON boolean (2017-05-25's receipts: `success`).
    case bool(Bool)

    public static func == (a: ResponseValue, b: ResponseValue) -> Bool {
        switch (a, b) {
        case (.string(let x), .string(let y)): return x == y
        case (.number(let x), .number(let y)): return x == y
        case (.array(let x), .array(let y)): return x == y
        case (.bool(let x), .bool(let y)): return x == y
        case (.object(let x), .object(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }
}

public enum ResponseFormat: Sendable {
    case json, xml

    public var contentType: String {
        // The SDK recognises XML errors by this exact content type.
        self == .json ? "application/json;charset=utf-8" : "text/xml;charset=utf-8"
    }
}

/// Every RPC answer is encoded here: the encoder is `@inlinable` so that its callers in other modules (the
/// gateway) keep the inlining and specialisation they had when it lived in PetrelAPI.
public enum ResponseEncoder {
    @inlinable
    public static func encode(_ fields: [(String, ResponseValue)], root: String, format: ResponseFormat) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        switch format {
        case .json:
            json(.object(fields), into: &out)
        case .xml:
            out.append(contentsOf: "<?xml version='1.0' encoding='UTF-8'?>".utf8)
            xml(root, .object(fields), into: &out)
        }
        return out
    }

    @inlinable
    static func json(_ value: ResponseValue, into out: inout [UInt8]) {
        switch value {
        case .string(let s):
            jsonString(s, into: &out)
        case .object(let fields):
            out.append(UInt8(ascii: "{"))
            for (i, (key, v)) in fields.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                jsonString(key, into: &out)
                out.append(UInt8(ascii: ":"))
                json(v, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        case .number(let n):
            out.append(contentsOf: String(n).utf8)
        case .bool(let b):
            out.append(contentsOf: (b ? "true" : "false").utf8)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, v) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                json(v, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        }
    }

    @usableFromInline
    static let hex = Array("0123456789abcdef".utf8)

    @inlinable
    public static func jsonString(_ s: String, into out: inout [UInt8]) {
        var s = s
        s.withUTF8 { bytes in
            out.append(UInt8(ascii: "\""))
            // Most values (ids, codes, numbers) need no escaping: copy them whole.
            var clean = true
            for b in bytes where b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") {
                clean = false
                break
            }
            if clean {
                out.append(contentsOf: bytes)
            } else {
                for b in bytes { escape(b, into: &out) }
            }
            out.append(UInt8(ascii: "\""))
        }
    }

    @inlinable
    static func escape(_ b: UInt8, into out: inout [UInt8]) {
        switch b {
        case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
        case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
        case UInt8(ascii: "\n"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
        case UInt8(ascii: "\r"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
        case UInt8(ascii: "\t"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
        case 0..<0x20:
            out.append(contentsOf: Array("\\u00".utf8))
            out.append(hex[Int(b >> 4)])
            out.append(hex[Int(b & 0xF)])
        default: out.append(b)
        }
    }

    /// A JSON array of strings, as text: the form of MessageIdList and FailedList.
    @inlinable
    public static func jsonArrayText(_ items: [String]) -> String {
        var out: [UInt8] = [UInt8(ascii: "[")]
        for (i, item) in items.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            jsonString(item, into: &out)
        }
        out.append(UInt8(ascii: "]"))
        return String(decoding: out, as: UTF8.self)
    }

    @inlinable
    static func xml(_ name: String, _ value: ResponseValue, into out: inout [UInt8]) {
        if case .array(let items) = value {
            for item in items { xml(name, item, into: &out) }
            return
        }
        out.append(UInt8(ascii: "<"))
        out.append(contentsOf: name.utf8)
        out.append(UInt8(ascii: ">"))
        switch value {
        case .string(let s):
            for b in s.utf8 {
                switch b {
                case UInt8(ascii: "<"): out.append(contentsOf: Array("&lt;".utf8))
                case UInt8(ascii: ">"): out.append(contentsOf: Array("&gt;".utf8))
                case UInt8(ascii: "&"): out.append(contentsOf: Array("&amp;".utf8))
                case UInt8(ascii: "\""): out.append(contentsOf: Array("&quot;".utf8))
                case UInt8(ascii: "'"): out.append(contentsOf: Array("&apos;".utf8))
                default: out.append(b)
                }
            }
        case .object(let fields):
            for (key, v) in fields { xml(key, v, into: &out) }
        case .number(let n):
            out.append(contentsOf: String(n).utf8)
        case .bool(let b):
            out.append(contentsOf: (b ? "true" : "false").utf8)
        case .array:
            break  // written above, one element per item
        }
        out.append(contentsOf: Array("</".utf8))
        out.append(contentsOf: name.utf8)
        out.append(UInt8(ascii: ">"))
    }
}
