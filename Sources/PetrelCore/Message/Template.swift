/// Message templates with `${name}` placeholders.
public enum Template {
    public enum RenderError: Error, Equatable {
        case missingValue(String)
    }

    /// Names of the placeholders in `text`, in order of first appearance.
    public static func variables(in text: String) -> [String] {
        var names: [String] = []
        forEachPlaceholder(in: text) { name, _ in
            if !names.contains(name) { names.append(name) }
        }
        return names
    }

    /// Replaces every `${name}` with its value. A placeholder without a value (or with an empty one) fails.
    public static func render(_ text: String, values: [String: String]) -> Result<String, RenderError> {
        var out = ""
        var last = text.startIndex
        var missing: String?
        forEachPlaceholder(in: text) { name, range in
            guard missing == nil else { return }
            guard let value = values[name], !value.isEmpty else {
                missing = name
                return
            }
            out += text[last..<range.lowerBound]
            out += value
            last = range.upperBound
        }
        if let missing { return .failure(.missingValue(missing)) }
        out += text[last...]
        return .success(out)
    }

    /// Scans bytes, not Characters: a template is read on every send (grapheme breaking cost more than the rest of
    /// rendering), and `$`, `{` and `}` are single bytes that never occur inside another character's UTF-8.
    static func forEachPlaceholder(in text: String, _ body: (String, Range<String.Index>) -> Void) {
        let utf8 = text.utf8
        var index = utf8.startIndex
        while let dollar = utf8[index...].firstIndex(of: UInt8(ascii: "$")) {
            let brace = utf8.index(after: dollar)
            guard brace < utf8.endIndex else { return }
            guard utf8[brace] == UInt8(ascii: "{") else {
                index = brace
                continue
            }
            let start = utf8.index(after: brace)
            guard let close = utf8[start...].firstIndex(of: UInt8(ascii: "}")) else { return }
            let name = String(text[start..<close]).trimmingWhitespace()
            body(name, dollar..<utf8.index(after: close))
            index = utf8.index(after: close)
        }
    }
}

extension String {
    func trimmingWhitespace() -> String {
        // Most names start and end with an ASCII letter or digit: no Unicode property lookups for them.
        if let first = utf8.first, let last = utf8.last, first > 0x20, first < 0x7F, last > 0x20, last < 0x7F {
            return self
        }
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[first...last])
    }
}
