/// A campaign text with `${column}` placeholders, filled in per row.
public struct CampaignTemplate: Sendable, Equatable {
    enum Piece: Sendable, Equatable {
        case text(String)
        case column(Int)
    }

    let pieces: [Piece]

    public enum Problem: Error, Sendable, Equatable, CustomStringConvertible {
        case unknownColumn(String, available: [String])
        case unclosed

        public var description: String {
            switch self {
            case .unknownColumn(let name, let available):
                "The text uses ${\(name)} but the CSV has no such column (columns: \(available.joined(separator: ", ")))."
            case .unclosed: "The text has a ${ without its closing }."
            }
        }
    }

    /// Compiles `text` against the CSV's column names (matched exactly, then ignoring case).
    public init(_ text: String, columns: [String]) throws(Problem) {
        var pieces: [Piece] = []
        var rest = Substring(text)
        while let open = rest.range(of: "${") {
            if open.lowerBound > rest.startIndex { pieces.append(.text(String(rest[..<open.lowerBound]))) }
            guard let close = rest[open.upperBound...].firstIndex(of: "}") else { throw .unclosed }
            let name = rest[open.upperBound..<close].trimmingBlanks
            guard
                let index = columns.firstIndex(of: name)
                    ?? columns.firstIndex(where: { $0.lowercased() == name.lowercased() })
            else { throw .unknownColumn(name, available: columns) }
            pieces.append(.column(index))
            rest = rest[rest.index(after: close)...]
        }
        if !rest.isEmpty { pieces.append(.text(String(rest))) }
        self.pieces = pieces
    }

    public var usesColumns: Bool { pieces.contains { if case .column = $0 { true } else { false } } }

    public func render(_ fields: [String]) -> String {
        var out = ""
        for p in pieces {
            switch p {
            case .text(let t): out += t
            case .column(let i): if i < fields.count { out += fields[i] }
            }
        }
        return out
    }
}

extension Substring {
    fileprivate func range(of needle: String) -> Range<Index>? {
        var i = startIndex
        while i < endIndex {
            if self[i...].hasPrefix(needle) { return i..<index(i, offsetBy: needle.count) }
            i = index(after: i)
        }
        return nil
    }
}
