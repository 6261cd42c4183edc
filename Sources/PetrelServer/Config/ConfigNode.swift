import Foundation
import Yams

/// A position in a parsed YAML/JSON config document. Reading a key marks it as known; `finish()` then rejects
/// any key nobody read, so a typo stops startup with the key's full path instead of being silently ignored.
final class ConfigNode {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    let path: String
    let value: Any?
    private var read: Set<String> = []
    private var children: [ConfigNode] = []

    init(path: String, value: Any?) {
        self.path = path
        self.value = value
    }

    static func parse(yaml: String) throws -> ConfigNode {
        let loaded: Any?
        do {
            loaded = try Yams.load(yaml: yaml)
        } catch {
            throw Failure(
                description: "the config file is not valid YAML: \(YAMLErrorText.sentence(error, yaml: yaml))"
            )
        }
        if loaded != nil, !(loaded is [String: Any]) {
            throw Failure(description: "the config file must hold a mapping of keys at its top level")
        }
        return ConfigNode(path: "", value: loaded ?? [String: Any]())
    }

    private var map: [String: Any] { value as? [String: Any] ?? [:] }

    func key(_ k: String) -> String { path.isEmpty ? k : "\(path).\(k)" }

    func has(_ k: String) -> Bool { map[k] != nil }

    func isList(_ k: String) -> Bool { map[k] is [Any] }

    func child(_ k: String) throws -> ConfigNode {
        read.insert(k)
        let v = map[k]
        if let v, !(v is [String: Any]) { throw Failure(description: "\(key(k)) must be a mapping") }
        let node = ConfigNode(path: key(k), value: v ?? [String: Any]())
        children.append(node)
        return node
    }

    func list(_ k: String) throws -> [ConfigNode] {
        read.insert(k)
        guard let v = map[k] else { return [] }
        guard let items = v as? [Any] else { throw Failure(description: "\(key(k)) must be a list") }
        return items.enumerated().map { i, item in
            let node = ConfigNode(path: "\(key(k))[\(i)]", value: item)
            children.append(node)
            return node
        }
    }

    /// Keys of this mapping, for maps of free-form names (throttling by action).
    func keys() -> [String] { map.keys.sorted() }

    func string(_ k: String) throws -> String? {
        read.insert(k)
        guard let v = map[k] else { return nil }
        switch v {
        case let s as String: return s
        case let n as Int: return String(n)
        case let d as Double: return String(d)
        case let b as Bool: return String(b)
        default: throw Failure(description: "\(key(k)) must be a string")
        }
    }

    func string(_ k: String, default d: String) throws -> String { try string(k) ?? d }

    func int(_ k: String, default d: Int, range: ClosedRange<Int> = Int.min...Int.max) throws -> Int {
        read.insert(k)
        guard let v = map[k] else { return d }
        let n: Int?
        switch v {
        case let i as Int: n = i
        case let s as String: n = Int(s)
        default: n = nil
        }
        guard let n, range.contains(n) else {
            throw Failure(
                description: "\(key(k)) must be a whole number from \(range.lowerBound) to \(range.upperBound)"
            )
        }
        return n
    }

    func double(_ k: String, default d: Double, range: ClosedRange<Double>) throws -> Double {
        read.insert(k)
        guard let v = map[k] else { return d }
        let n: Double?
        switch v {
        case let i as Int: n = Double(i)
        case let x as Double: n = x
        case let s as String: n = Double(s)
        default: n = nil
        }
        guard let n, range.contains(n) else {
            throw Failure(description: "\(key(k)) must be a number from \(range.lowerBound) to \(range.upperBound)")
        }
        return n
    }

    func bool(_ k: String, default d: Bool) throws -> Bool {
        read.insert(k)
        guard let v = map[k] else { return d }
        if let b = v as? Bool { return b }
        if let s = v as? String, let b = Bool(s.lowercased()) { return b }
        throw Failure(description: "\(key(k)) must be true or false")
    }

    func strings(_ k: String) throws -> [String] {
        read.insert(k)
        guard let v = map[k] else { return [] }
        if let s = v as? String { return [s] }
        guard let items = v as? [Any] else { throw Failure(description: "\(key(k)) must be a list of strings") }
        return try items.map { item in
            switch item {
            case let s as String: return s
            case let n as Int: return String(n)
            default: throw Failure(description: "\(key(k)) must be a list of strings")
            }
        }
    }

    /// Throws for the first key that no reader asked for, depth first.
    func finish() throws {
        if value is [String: Any] {
            for k in map.keys.sorted() where !read.contains(k) {
                throw Failure(description: "unknown config key \(key(k))")
            }
        }
        for c in children { try c.finish() }
    }
}
