import Foundation

/// A RAM-style policy: `{"Version":"1","Statement":[{"Effect":"Allow|Deny","Action":[…],"Resource":"*"}]}`.
/// An explicit Deny wins over any Allow; without a matching Allow the call is denied.
public struct Policy: Sendable, Equatable {
    public struct Statement: Sendable, Equatable {
        public var allow: Bool
        public var actions: [String]
        public var resources: [String]
    }

    public enum Decision: Equatable, Sendable {
        case allow, implicitDeny, explicitDeny
    }

    public struct ParseError: Error, CustomStringConvertible {
        public let description: String
    }

    public var statements: [Statement]

    public init(statements: [Statement]) {
        self.statements = statements
    }

    public static func parse(_ text: String) throws(ParseError) -> Policy {
        guard let root = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw ParseError(description: "the policy is not a JSON object")
        }
        if let version = root["Version"], "\(version)" != "1" {
            throw ParseError(description: "policy Version must be \"1\"")
        }
        let raw: [Any]
        if let list = root["Statement"] as? [Any] {
            raw = list
        } else if let one = root["Statement"] as? [String: Any] {
            raw = [one]
        } else {
            throw ParseError(description: "the policy has no Statement")
        }
        var statements: [Statement] = []
        for item in raw {
            guard let s = item as? [String: Any] else { throw ParseError(description: "a Statement is not an object") }
            guard let effect = (s["Effect"] as? String)?.lowercased(), effect == "allow" || effect == "deny" else {
                throw ParseError(description: "a Statement's Effect must be Allow or Deny")
            }
            let actions = try strings(s["Action"], "Action")
            let resources = s["Resource"] == nil ? ["*"] : try strings(s["Resource"], "Resource")
            statements.append(Statement(allow: effect == "allow", actions: actions, resources: resources))
        }
        return Policy(statements: statements)
    }

    static func strings(_ value: Any?, _ name: String) throws(ParseError) -> [String] {
        if let one = value as? String { return [one] }
        if let many = value as? [String], !many.isEmpty { return many }
        throw ParseError(description: "a Statement's \(name) must be a string or a list of strings")
    }

    /// Decides on `action` (e.g. `dysms:SendMessageToGlobe`) for `account`'s resources.
    public func evaluate(action: String, account: String) -> Decision {
        let resource = "acs:dysms:*:\(account):*"
        var allowed = false
        for s in statements {
            guard s.actions.contains(where: { Self.matches(pattern: $0, action) }),
                s.resources.contains(where: { Self.matches(pattern: $0, resource) })
            else { continue }
            if !s.allow { return .explicitDeny }
            allowed = true
        }
        return allowed ? .allow : .implicitDeny
    }

    /// Case-insensitive glob: `*` any run of characters, `?` exactly one.
    static func matches(pattern: String, _ text: String) -> Bool {
        let p = Array(pattern.lowercased().utf8)
        let t = Array(text.lowercased().utf8)
        var pi = 0
        var ti = 0
        var star = -1
        var mark = 0
        while ti < t.count {
            if pi < p.count, p[pi] == UInt8(ascii: "?") || p[pi] == t[ti] {
                pi += 1
                ti += 1
            } else if pi < p.count, p[pi] == UInt8(ascii: "*") {
                star = pi
                mark = ti
                pi += 1
            } else if star >= 0 {
                pi = star + 1
                mark += 1
                ti = mark
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.count
    }
}

extension Policy {
    /// Whether a key with `policy` may do `action`: no policy is full rights, an unreadable one allows nothing.
    public static func allows(_ policy: String?, action: String, account: String) -> Bool {
        guard let policy else { return true }
        return (try? parse(policy))?.evaluate(action: action, account: account) == .allow
    }

    /// Whether `policy` allows everything `other` allows among `actions`, so a key acting on another key never acts
    /// on a stronger one. Include a made-up action in `actions` to compare wildcards beyond the known ones.
    public static func covers(_ policy: String?, _ other: String?, actions: [String], account: String) -> Bool {
        actions.allSatisfy {
            !allows(other, action: $0, account: account) || allows(policy, action: $0, account: account)
        }
    }
}
