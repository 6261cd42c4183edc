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

    static func forEachPlaceholder(in text: String, _ body: (String, Range<String.Index>) -> Void) {
        var index = text.startIndex
        while let open = text[index...].firstRange(of: "${") {
            guard let close = text[open.upperBound...].firstIndex(of: "}") else { return }
            let name = String(text[open.upperBound..<close]).trimmingWhitespace()
            body(name, open.lowerBound..<text.index(after: close))
            index = text.index(after: close)
        }
    }
}

extension String {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[first...last])
    }
}
