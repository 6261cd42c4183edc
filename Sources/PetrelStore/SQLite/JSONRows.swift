/// Rows of values as one JSON text (`[[1,"a"],[2,"b"]]`), bound as a single parameter and read back with
/// `json_each(?)` and `value ->> N`: one set-based statement instead of one statement per row. Per statement,
/// SQLite opens a statement journal and runs the receipt trigger's program afresh, which on the writer thread
/// cost more than the row changes themselves.
struct JSONRows {
    private(set) var count = 0
    private var text = "["
    private var fieldsInRow = 0

    /// The finished text (`[]` for no rows).
    var json: String { count == 0 ? "[]" : text + "]]" }

    mutating func newRow() {
        if count > 0 { text += "]," }
        text += "["
        count += 1
        fieldsInRow = 0
    }

    mutating func add(_ value: Int64?) {
        separate()
        if let value { text += String(value) } else { text += "null" }
    }

    mutating func add(_ value: Int) { add(Int64(value)) }

    mutating func add(_ value: String?) {
        separate()
        guard let value else {
            text += "null"
            return
        }
        text += "\""
        // Most values (ids, channel names, status codes) need no escaping: append them whole.
        if !value.utf8.contains(where: { $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") || $0 < 0x20 }) {
            text += value
            text += "\""
            return
        }
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            case let c where c.value < 0x20:
                text += "\\u00"
                text += c.value < 0x10 ? "0" : ""
                text += String(c.value, radix: 16)
            default: text.unicodeScalars.append(scalar)
            }
        }
        text += "\""
    }

    private mutating func separate() {
        if fieldsInRow > 0 { text += "," }
        fieldsInRow += 1
    }
}
