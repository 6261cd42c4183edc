/// A compiled libphonenumber national-number pattern.
///
/// libphonenumber's metadata uses a tiny regular-expression subset: digits, `\d`, `[..]` classes with ranges,
/// `(?:..)` and `(..)` groups, `|`, `?` and `{n}` / `{n,m}`. Instead of pulling in a regex engine (ICU through
/// Foundation is slow on Linux), this matcher runs the pattern over a bit set of reachable positions, so a
/// whole-string match costs a few hundred nanoseconds and can never backtrack exponentially.
public struct DigitPattern: Sendable {
    indirect enum Node: Sendable {
        case digits(UInt16)  // bit d set = digit d allowed
        case sequence([Node])
        case alternation([Node])
        case repetition(Node, min: Int, max: Int)
    }

    struct SyntaxError: Error, CustomStringConvertible {
        let pattern: String
        let offset: Int
        var description: String { "unsupported number pattern at offset \(offset): \(pattern)" }
    }

    /// The parsed pattern flattened into plain values, so matching does no reference counting.
    struct Op: Sendable {
        var kind: UInt8  // 0 digits, 1 sequence, 2 alternation, 3 repetition
        var mask: UInt16  // digits
        var min: UInt8  // repetition
        var max: UInt8  // repetition
        var first: Int32  // sequence / alternation: first index in `children`; repetition: the child op
        var count: Int32  // sequence / alternation: number of children
    }

    let ops: [Op]
    let children: [Int32]
    let root: Int32

    public init(_ pattern: String) throws {
        var parser = Parser(bytes: Array(pattern.utf8), pattern: pattern)
        let tree = try parser.parseAlternation()
        guard parser.index == parser.bytes.count else { throw parser.error() }
        var ops: [Op] = []
        var children: [Int32] = []
        func flatten(_ node: Node) -> Int32 {
            switch node {
            case .digits(let mask):
                ops.append(Op(kind: 0, mask: mask, min: 0, max: 0, first: 0, count: 0))
            case .sequence(let nodes), .alternation(let nodes):
                let ids = nodes.map(flatten)
                let first = Int32(children.count)
                children.append(contentsOf: ids)
                let kind: UInt8 = if case .sequence = node { 1 } else { 2 }
                ops.append(Op(kind: kind, mask: 0, min: 0, max: 0, first: first, count: Int32(ids.count)))
            case .repetition(let inner, let min, let max):
                let child = flatten(inner)
                ops.append(
                    Op(kind: 3, mask: 0, min: UInt8(min), max: UInt8(Swift.min(max, 31)), first: child, count: 0)
                )
            }
            return Int32(ops.count - 1)
        }
        self.root = flatten(tree)
        self.ops = ops
        self.children = children
    }

    /// True when the whole of `digits` (values 0...9) matches the pattern. At most 31 digits.
    public func matches(_ digits: UnsafeBufferPointer<UInt8>) -> Bool {
        guard digits.count < 32 else { return false }
        return reach(digits) & (1 << UInt32(digits.count)) != 0
    }

    public func matches(_ digits: [UInt8]) -> Bool {
        digits.withUnsafeBufferPointer { matches($0) }
    }

    /// End positions reachable from position 0.
    func reach(_ input: UnsafeBufferPointer<UInt8>) -> UInt32 {
        ops.withUnsafeBufferPointer { ops in
            children.withUnsafeBufferPointer { children in
                Self.run(root, ops, children, input, 1)
            }
        }
    }

    /// Positions reachable after matching op `index`, starting from any position in `start`.
    static func run(
        _ index: Int32,
        _ ops: UnsafeBufferPointer<Op>,
        _ children: UnsafeBufferPointer<Int32>,
        _ input: UnsafeBufferPointer<UInt8>,
        _ start: UInt32
    ) -> UInt32 {
        if start == 0 { return 0 }
        let op = ops[Int(index)]
        switch op.kind {
        case 0:
            var out: UInt32 = 0
            var pending = start
            while pending != 0 {
                let p = pending.trailingZeroBitCount
                pending &= pending - 1
                if p < input.count, op.mask & (1 << UInt16(input[p])) != 0 { out |= 1 << UInt32(p + 1) }
            }
            return out
        case 1:
            var set = start
            for c in Int(op.first)..<Int(op.first + op.count) {
                set = run(children[c], ops, children, input, set)
                if set == 0 { return 0 }
            }
            return set
        case 2:
            var out: UInt32 = 0
            for c in Int(op.first)..<Int(op.first + op.count) { out |= run(children[c], ops, children, input, start) }
            return out
        default:
            var set = start
            for _ in 0..<op.min {
                set = run(op.first, ops, children, input, set)
                if set == 0 { return 0 }
            }
            var out = set
            var count = op.min
            while count < op.max {
                set = run(op.first, ops, children, input, set)
                if set == 0 || set | out == out { break }
                out |= set
                count += 1
            }
            return out
        }
    }
}

extension DigitPattern {
    struct Parser {
        let bytes: [UInt8]
        let pattern: String
        var index = 0

        func error() -> SyntaxError { SyntaxError(pattern: pattern, offset: index) }

        var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func expect(_ c: Character) throws {
            guard peek == c.asciiValue else { throw error() }
            index += 1
        }

        mutating func parseAlternation() throws -> Node {
            var branches = [try parseSequence()]
            while peek == UInt8(ascii: "|") {
                index += 1
                branches.append(try parseSequence())
            }
            return branches.count == 1 ? branches[0] : .alternation(branches)
        }

        mutating func parseSequence() throws -> Node {
            var items: [Node] = []
            while let c = peek, c != UInt8(ascii: "|"), c != UInt8(ascii: ")") {
                var atom = try parseAtom()
                atom = try parseQuantifier(atom)
                items.append(atom)
            }
            return items.count == 1 ? items[0] : .sequence(items)
        }

        mutating func parseAtom() throws -> Node {
            guard let c = peek else { throw error() }
            switch c {
            case UInt8(ascii: "("):
                index += 1
                if peek == UInt8(ascii: "?") {
                    index += 1
                    try expect(":")
                }
                let inner = try parseAlternation()
                try expect(")")
                return inner
            case UInt8(ascii: "["):
                index += 1
                return .digits(try parseClass())
            case UInt8(ascii: "\\"):
                index += 1
                try expect("d")
                return .digits(0x3FF)
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                index += 1
                return .digits(1 << UInt16(c - UInt8(ascii: "0")))
            default:
                throw error()
            }
        }

        mutating func parseClass() throws -> UInt16 {
            var mask: UInt16 = 0
            while let c = peek, c != UInt8(ascii: "]") {
                if c == UInt8(ascii: "\\") {
                    index += 1
                    try expect("d")
                    mask |= 0x3FF
                    continue
                }
                guard let low = digit(c) else { throw error() }
                index += 1
                if peek == UInt8(ascii: "-") {
                    index += 1
                    guard let h = peek, let high = digit(h), high >= low else { throw error() }
                    index += 1
                    for d in low...high { mask |= 1 << UInt16(d) }
                } else {
                    mask |= 1 << UInt16(low)
                }
            }
            try expect("]")
            return mask
        }

        mutating func parseQuantifier(_ atom: Node) throws -> Node {
            switch peek {
            case UInt8(ascii: "?"):
                index += 1
                return .repetition(atom, min: 0, max: 1)
            case UInt8(ascii: "{"):
                index += 1
                let min = try parseNumber()
                var max = min
                if peek == UInt8(ascii: ",") {
                    index += 1
                    max = peek == UInt8(ascii: "}") ? 31 : try parseNumber()
                }
                try expect("}")
                guard max >= min else { throw error() }
                return .repetition(atom, min: min, max: max)
            default:
                return atom
            }
        }

        mutating func parseNumber() throws -> Int {
            var value = 0
            var seen = false
            while let c = peek, let d = digit(c) {
                value = value * 10 + Int(d)
                seen = true
                index += 1
            }
            guard seen else { throw error() }
            return value
        }

        func digit(_ c: UInt8) -> UInt8? {
            c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") ? c - UInt8(ascii: "0") : nil
        }
    }
}

extension DigitPattern {
    /// True when some prefix of `digits` (possibly all of it) matches.
    public func matchesPrefix(_ digits: UnsafeBufferPointer<UInt8>) -> Bool {
        reach(UnsafeBufferPointer(rebasing: digits.prefix(31))) != 0
    }

    public func matchesPrefix(_ digits: [UInt8]) -> Bool {
        digits.withUnsafeBufferPointer { matchesPrefix($0) }
    }

    /// The lengths of every prefix of `digits` that the pattern matches, shortest first.
    public func prefixEnds(_ digits: [UInt8]) -> [Int] {
        var ends = digits.withUnsafeBufferPointer { reach(UnsafeBufferPointer(rebasing: $0.prefix(31))) }
        var result: [Int] = []
        while ends != 0 {
            result.append(ends.trailingZeroBitCount)
            ends &= ends - 1
        }
        return result
    }
}
