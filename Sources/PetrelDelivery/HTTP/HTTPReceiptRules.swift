import Crypto
import Foundation
public import PetrelCore
public import PetrelStore

/// How an HTTP channel's provider reports delivery (`receipts:` of the channel): it POSTs to
/// `/carriers/{channel}/receipts` with the channel's secret, a JSON object, a JSON array of them, or a form; each
/// object's fields are read by JSON paths (a form's fields by name: `$.status`).
public struct HTTPReceiptRules: Sendable {
    /// Sent as `X-Petrel-Secret`, or as the `secret` query parameter of the callback URL.
    public var secret: String
    public var messageId: AnswerField
    public var status: AnswerField
    /// Status values (compared ignoring case) meaning delivered, failed or expired; others (accepted, en route)
    /// are not final and are passed over.
    public var delivered: Set<String> = []
    public var failed: Set<String> = []
    public var expired: Set<String> = []
    public var errorCode: AnswerField?
    /// The time of delivery: seconds or milliseconds since 1970, or ISO 8601; without it, the time it arrived.
    public var time: JSONPath?
    /// Callback bodies are refused beyond this.
    public var maxBytes = 1 << 20
    /// Items of one callback body (a JSON array's length) beyond which it is refused: each receipt is a row to
    /// look up and write, and a 1 MiB body holds tens of thousands of small ones.
    public var maxItems = 1000

    public init(secret: String, messageId: AnswerField, status: AnswerField) {
        self.secret = secret
        self.messageId = messageId
        self.status = status
    }

    /// Whether `given` is the secret, in time that does not depend on where they differ (digests compared).
    public func accepts(secret given: String) -> Bool {
        let a = Array(SHA256.hash(data: Array(given.utf8)))
        let b = Array(SHA256.hash(data: Array(secret.utf8)))
        var diff: UInt8 = 0
        for i in 0..<min(a.count, b.count) { diff |= a[i] ^ b[i] }
        return diff == 0 && !secret.isEmpty
    }

    public struct Reading: Sendable, Equatable {
        public var receipts: [CarrierReceipt] = []
        /// Items without an id or a final status this channel knows (not final yet, or not understood).
        public var passedOver = 0
        /// The body held more than `maxItems` items; none was read.
        public var tooMany = false
    }

    /// The receipts in a callback body; nil when it is neither JSON nor a form.
    public func read(_ body: [UInt8], form: Bool, channel: String, nowMs: Int64) -> Reading? {
        let items: [Any]
        if form {
            items = [Self.formFields(body)]
        } else {
            guard let root = try? JSONSerialization.jsonObject(with: Data(body)) else { return nil }
            items = (root as? [Any]) ?? [root]
        }
        var reading = Reading()
        guard items.count <= maxItems else {
            reading.tooMany = true
            return reading
        }
        for item in items {
            guard let id = value(messageId, in: item), !id.isEmpty,
                let word = value(status, in: item)?.lowercased(), let status = state(word)
            else {
                reading.passedOver += 1
                continue
            }
            let code = errorCode.flatMap { value($0, in: item) }.map { HTTPAnswerRules.printable($0, max: 64) }
            reading.receipts.append(
                CarrierReceipt(
                    channel: channel,
                    carrierId: id,
                    status: status,
                    errorCode: status == .delivered ? "" : (code ?? word.uppercased()),
                    atMs: time.flatMap { $0.value(in: item) }.flatMap(Self.epochMs).flatMap { at in
                        // A delivery cannot come after its receipt arrived, nor before 1970: a time outside is
                        // the provider's clock or a typo, and would skew the message's record; arrival it is.
                        at <= nowMs ? at : nil
                    } ?? nowMs
                )
            )
        }
        return reading
    }

    func state(_ word: String) -> MessageStatus? {
        if delivered.contains(where: { $0.lowercased() == word }) { return .delivered }
        if failed.contains(where: { $0.lowercased() == word }) { return .failed }
        if expired.contains(where: { $0.lowercased() == word }) { return .expired }
        return nil
    }

    func value(_ field: AnswerField, in item: Any) -> String? {
        switch field {
        case .json(let path):
            return path.value(in: item)
        case .pattern(let p):
            guard let data = try? JSONSerialization.data(withJSONObject: item, options: [.fragmentsAllowed]) else {
                return nil
            }
            return p.value(in: Array(data))
        }
    }

    /// Milliseconds since 1970 (positive), from seconds, milliseconds or ISO 8601 (which parses to seconds).
    static func epochMs(_ text: String) -> Int64? {
        if let n = Int64(text), n > 0 {
            return n >= 100_000_000_000 ? n : n.multipliedReportingOverflow(by: 1000).partialValue
        }
        guard let seconds = AlibabaDate.parseISO8601(text), seconds > 0 else { return nil }
        return seconds * 1000
    }

    /// `a=1&b=2` as a JSON-like object (the last of a repeated name wins).
    static func formFields(_ body: [UInt8]) -> [String: Any] {
        var fields: [String: Any] = [:]
        for pair in body.split(separator: UInt8(ascii: "&")) {
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            let name = decode(parts[0])
            fields[name] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return fields
    }

    static func decode(_ bytes: ArraySlice<UInt8>) -> String {
        let plus = String(decoding: bytes.map { $0 == UInt8(ascii: "+") ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
        return plus.removingPercentEncoding ?? plus
    }
}
