import Foundation

/// A small JSON path: `$.data.id`, `$.results[0].id` (the `$.` may be left out). Keys and array indexes only:
/// what a provider's answer or receipt needs, and nothing a hostile body could make expensive.
public struct JSONPath: Sendable, Equatable, CustomStringConvertible {
    enum Step: Equatable {
        case key(String)
        case index(Int)
    }

    let steps: [Step]
    public let description: String

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public init(_ text: String) throws(Failure) {
        description = text
        var rest = Substring(text)
        if rest.hasPrefix("$") { rest = rest.dropFirst() }
        if rest.hasPrefix(".") { rest = rest.dropFirst() }
        var steps: [Step] = []
        for segment in rest.split(separator: ".", omittingEmptySubsequences: false) {
            var segment = segment
            let key = segment.prefix { $0 != "[" }
            if !key.isEmpty { steps.append(.key(String(key))) }
            segment = segment.dropFirst(key.count)
            while segment.hasPrefix("[") {
                guard let close = segment.firstIndex(of: "]"),
                    let i = Int(segment[segment.index(after: segment.startIndex)..<close]), i >= 0
                else { throw Failure(description: "\(text) is not a JSON path like $.data.id or $.results[0].id") }
                steps.append(.index(i))
                segment = segment[segment.index(after: close)...]
            }
            guard segment.isEmpty, !(key.isEmpty && steps.isEmpty) else {
                throw Failure(description: "\(text) is not a JSON path like $.data.id or $.results[0].id")
            }
        }
        guard !steps.isEmpty else {
            throw Failure(description: "\(text) is not a JSON path like $.data.id or $.results[0].id")
        }
        self.steps = steps
    }

    /// The value at the path as text (a string, or a number written as JSON writes it); nil when the body is no
    /// JSON or the path leads nowhere or to an object, an array or null.
    public func value(in body: [UInt8]) -> String? {
        guard let root = try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed]) else {
            return nil
        }
        return value(in: root)
    }

    func value(in root: Any) -> String? {
        var node: Any = root
        for step in steps {
            switch step {
            case .key(let k):
                guard let object = node as? [String: Any], let next = object[k] else { return nil }
                node = next
            case .index(let i):
                guard let array = node as? [Any], array.indices.contains(i) else { return nil }
                node = array[i]
            }
        }
        if let s = node as? String { return s }
        if let b = node as? Bool, type(of: node) == Bool.self { return b ? "true" : "false" }
        if let n = node as? NSNumber {
            let whole = n.int64Value
            return n.doubleValue == Double(whole) ? "\(whole)" : n.stringValue
        }
        return nil
    }
}

/// A regular expression over an answer body; its first capture group (or the whole match) is the value.
public struct AnswerPattern: @unchecked Sendable {
    // `@unchecked`: a compiled Regex is an immutable value, only read here.
    let regex: Regex<AnyRegexOutput>
    public let source: String

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public init(_ source: String) throws(Failure) {
        do {
            regex = try Regex(source)
        } catch {
            throw Failure(description: "\(source) is not a regular expression (\(error))")
        }
        self.source = source
    }

    public func value(in body: [UInt8]) -> String? {
        let text = String(decoding: body, as: UTF8.self)
        guard let match = try? regex.firstMatch(in: text) else { return nil }
        let output = match.output
        let picked = output.count > 1 ? output[1].substring : output[0].substring
        return picked.map(String.init)
    }
}
