import Foundation
import PetrelCore
import PetrelDelivery

extension ServerConfiguration {
    /// One `type: http` entry of `channels:` (its id and type already read).
    static func readHTTPChannel(_ node: ConfigNode, id: String) throws -> HTTPChannelConfiguration {
        if let preset = try node.string("preset") {
            guard preset == "alibaba" else {
                throw ConfigNode.Failure(description: "\(node.key("preset")) must be alibaba")
            }
            return try readAlibabaChannel(node, id: id)
        }
        guard let url = try node.string("url"), !url.isEmpty else {
            throw ConfigNode.Failure(description: "\(node.key("url")) is required")
        }
        var ch = HTTPChannelConfiguration(id: id, url: try template(node, "url", url))
        guard let rendered = URL(string: ch.url.render(sample, escaping: .url)),
            let scheme = rendered.scheme?.lowercased(), scheme == "http" || scheme == "https",
            !(rendered.host ?? "").isEmpty
        else {
            throw ConfigNode.Failure(description: "\(node.key("url")) must be an http:// or https:// URL with a host")
        }
        ch.method = try node.string("method", default: "POST").uppercased()
        guard ["GET", "POST", "PUT", "PATCH"].contains(ch.method) else {
            throw ConfigNode.Failure(description: "\(node.key("method")) must be GET, POST, PUT or PATCH")
        }
        let headers = try node.child("headers")
        for name in headers.keys() {
            guard !name.isEmpty, name.utf8.allSatisfy(isTokenByte) else {
                throw ConfigNode.Failure(description: "\(headers.key(name)) is not a header name")
            }
            ch.headers.append((name, try template(headers, name, try headers.string(name) ?? "")))
        }
        if node.has("json"), node.has("form") {
            throw ConfigNode.Failure(description: "\(node.key("json")) and \(node.key("form")): choose one body")
        }
        if let json = try node.string("json") {
            let t = try template(node, "json", json)
            guard (try? JSONSerialization.jsonObject(with: Data(t.render(sample, escaping: .json).utf8))) != nil else {
                throw ConfigNode.Failure(
                    description: "\(node.key("json")) is not JSON once filled in (a placeholder goes between quotes)"
                )
            }
            ch.body = .json(t)
        } else if node.has("form") {
            let form = try node.child("form")
            var fields: [(name: String, value: MessageTemplate)] = []
            for name in form.keys() {
                var encoded = ""
                MessageTemplate.escape(name, .form, into: &encoded)
                fields.append((encoded, try template(form, name, try form.string(name) ?? "")))
            }
            ch.body = .form(fields)
        }
        if ch.method == "GET", node.has("json") || node.has("form") {
            throw ConfigNode.Failure(description: "\(node.key("method")): a GET request has no body (json or form)")
        }
        try readCommon(node, into: &ch)
        ch.answer = try readAnswer(try node.child("answer"), HTTPAnswerRules())
        if node.has("receipts") { ch.receipts = try readReceipts(try node.child("receipts"), preset: nil) }
        return ch
    }

    /// What every HTTP channel has: concurrency, tps, timeouts and retry delays.
    static func readCommon(_ node: ConfigNode, into ch: inout HTTPChannelConfiguration) throws {
        ch.concurrency = try node.int("concurrency", default: 4, range: 1...256)
        ch.tps = try node.double("tps", default: 0, range: 0...1_000_000)
        ch.timeoutMs = Int64(try node.int("timeout", default: 10, range: 1...300)) * 1000
        ch.maxAnswerBytes = try node.int("maxAnswerBytes", default: 65_536, range: 256...(16 << 20))
        ch.retryMinMs = Int64(try node.int("retryMin", default: 1, range: 1...3600)) * 1000
        ch.retryMaxMs = Int64(try node.int("retryMax", default: 300, range: 1...86_400)) * 1000
        guard ch.retryMinMs <= ch.retryMaxMs else {
            throw ConfigNode.Failure(description: "\(node.key("retryMax")) must be at least retryMin")
        }
    }

    static func readReceipts(_ node: ConfigNode, preset: HTTPReceiptRules?) throws -> HTTPReceiptRules {
        let secret = try node.string("secret") ?? ""
        // Guessable secrets would let anyone mark messages delivered.
        guard secret.utf8.count >= 16, secret.utf8.count <= 256 else {
            throw ConfigNode.Failure(description: "\(node.key("secret")) is required: 16 to 256 characters")
        }
        guard let id = try field(node, "messageId") ?? preset?.messageId else {
            throw ConfigNode.Failure(description: "\(node.key("messageId")) is required (a JSON path like $.id)")
        }
        guard let status = try field(node, "status") ?? preset?.status else {
            throw ConfigNode.Failure(description: "\(node.key("status")) is required (a JSON path like $.status)")
        }
        var rules = HTTPReceiptRules(secret: secret, messageId: id, status: status)
        rules.delivered = node.has("delivered") ? Set(try node.strings("delivered")) : preset?.delivered ?? []
        rules.failed = node.has("failed") ? Set(try node.strings("failed")) : preset?.failed ?? []
        rules.expired = node.has("expired") ? Set(try node.strings("expired")) : preset?.expired ?? []
        guard !rules.delivered.isEmpty else {
            throw ConfigNode.Failure(
                description: "\(node.key("delivered")) must name the status values meaning delivered"
            )
        }
        rules.errorCode = try field(node, "errorCode") ?? preset?.errorCode
        if let time = try node.string("time") {
            do {
                rules.time = try JSONPath(time)
            } catch {
                throw ConfigNode.Failure(description: "\(node.key("time")): \(error.description)")
            }
        }
        rules.maxBytes = try node.int("maxBytes", default: 1 << 20, range: 1024...(64 << 20))
        return rules
    }

    /// `answer:` over `start` (a preset's rules, or the defaults): each key given replaces its value.
    static func readAnswer(_ node: ConfigNode, _ start: HTTPAnswerRules) throws -> HTTPAnswerRules {
        var rules = start
        if node.has("sent") { rules.sent = try statuses(node, "sent") }
        if node.has("retry") { rules.retry = try statuses(node, "retry") }
        if node.has("reroute") { rules.reroute = try statuses(node, "reroute") }
        if let f = try field(node, "messageId") { rules.messageId = f }
        if let f = try field(node, "errorCode") { rules.errorCode = f }
        if node.has("retryCodes") { rules.retryCodes = Set(try node.strings("retryCodes")) }
        if node.has("rerouteCodes") { rules.rerouteCodes = Set(try node.strings("rerouteCodes")) }
        return rules
    }

    /// `NAME` (a JSON path) or `NAMEPattern` (a regular expression), not both.
    static func field(_ node: ConfigNode, _ name: String) throws -> AnswerField? {
        let path = try node.string(name)
        let pattern = try node.string(name + "Pattern")
        switch (path, pattern) {
        case (nil, nil):
            return nil
        case (let path?, nil):
            do {
                return .json(try JSONPath(path))
            } catch {
                throw ConfigNode.Failure(description: "\(node.key(name)): \(error.description)")
            }
        case (nil, let pattern?):
            do {
                return .pattern(try AnswerPattern(pattern))
            } catch {
                throw ConfigNode.Failure(description: "\(node.key(name + "Pattern")): \(error.description)")
            }
        case (.some, .some):
            throw ConfigNode.Failure(description: "\(node.key(name)) and \(node.key(name + "Pattern")): choose one")
        }
    }

    /// HTTP statuses: 404, or ranges like 500-599.
    static func statuses(_ node: ConfigNode, _ key: String) throws -> [ClosedRange<Int>] {
        try node.strings(key).map { item in
            let ends = item.split(separator: "-", maxSplits: 1).map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard let lo = ends.first ?? nil, let hi = ends.last ?? nil, 100 <= lo, lo <= hi, hi <= 599 else {
                throw ConfigNode.Failure(
                    description:
                        "\(node.key(key)) must hold HTTP statuses (100 to 599) or ranges like 500-599, got \(item)"
                )
            }
            return lo...hi
        }
    }

    static func template(_ node: ConfigNode, _ key: String, _ text: String) throws -> MessageTemplate {
        do {
            return try MessageTemplate(text)
        } catch {
            throw ConfigNode.Failure(description: "\(node.key(key)): \(error.description)")
        }
    }

    /// A message with awkward fields, to check that templates still give a URL and JSON once filled in.
    static let sample = Message(
        id: 1,
        account: "check",
        to: "6590000000",
        from: "Petrel \"&\"",
        text: "line\none \"quoted\" \\ {}",
        createdAtMs: 0
    )

    static func isTokenByte(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default: "!#$%&'*+-.^_`|~".utf8.contains(b)
        }
    }
}
