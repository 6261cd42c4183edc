/// A carrier reached over an HTTP API, from the config file's `channels:` list (`type: http`).
public struct HTTPChannelConfiguration: Sendable {
    public enum Body: Sendable {
        case none
        /// A JSON text; values are escaped for a JSON string, so a placeholder belongs between quotes.
        case json(MessageTemplate)
        /// Form fields (`name=value&…`), values form-encoded.
        case form([(name: String, value: MessageTemplate)])
    }

    public var id: String
    public var method = "POST"
    /// The URL; values in it are percent-encoded.
    public var url: MessageTemplate
    public var headers: [(name: String, value: MessageTemplate)] = []
    public var body: Body = .none
    /// Requests in flight at once (and connections to the provider at most).
    public var concurrency = 4
    /// Requests per second across the channel (divided among the live nodes sharing a store); 0 = unlimited.
    public var tps: Double = 0
    /// For the whole request, answer body included.
    public var timeoutMs: Int64 = 10_000
    /// Answer bodies are read up to this many bytes; the rest is not read.
    public var maxAnswerBytes = 65_536
    /// Temporary failures: the first retry after `retryMinMs`, doubling while they continue, at most `retryMaxMs`.
    public var retryMinMs: Int64 = 1000
    public var retryMaxMs: Int64 = 300_000
    public var answer = HTTPAnswerRules()
    /// `preset: alibaba`: requests are SendMessageToGlobe calls to `url` (the endpoint), V3-signed with this key.
    public var alibaba: AlibabaKey?
    /// How the provider reports delivery; nil: it does not (messages stay sent).
    public var receipts: HTTPReceiptRules?

    public init(id: String, url: MessageTemplate) {
        self.id = id
        self.url = url
    }
}

/// An Alibaba Cloud access key (the `preset: alibaba` channel's).
public struct AlibabaKey: Sendable {
    public var id: String
    public var secret: String

    public init(id: String, secret: String) {
        self.id = id
        self.secret = secret
    }
}

extension HTTPChannelConfiguration {
    /// Doubling from `retryMinMs` with each temporary failure in a row, at most `retryMaxMs`; a provider's
    /// `Retry-After` within those bounds is taken as it is.
    public func retryDelay(failures: Int, retryAfterSeconds: Int?) -> Int64 {
        let lo = retryMinMs
        let hi = retryMaxMs
        if let s = retryAfterSeconds { return min(hi, max(lo, Int64(s) * 1000)) }
        let doubled = lo.multipliedReportingOverflow(by: Int64(1) << Int64(min(max(0, failures - 1), 30)))
        return doubled.overflow ? hi : min(hi, doubled.partialValue)
    }
}

/// How a provider's answer is read (`answer:` of an HTTP channel).
public struct HTTPAnswerRules: Sendable {
    /// Statuses of an accepted request.
    public var sent: [ClosedRange<Int>] = [200...299]
    /// Statuses worth a retry later.
    public var retry: [ClosedRange<Int>] = [408...408, 425...425, 429...429, 500...599]
    /// Statuses meaning the provider cannot route it: the next channel of the route takes it.
    public var reroute: [ClosedRange<Int>] = []
    /// Where the provider's message id is; nil: the answer carries none (receipts cannot be matched).
    public var messageId: AnswerField?
    /// Where the provider's error code is, in any answer.
    public var errorCode: AnswerField?
    /// Provider codes (from `errorCode`) that mean retry, or reroute, whatever the status.
    public var retryCodes: Set<String> = []
    public var rerouteCodes: Set<String> = []

    public init() {}
}

/// A value in an answer body: a JSON path (`$.data.id`, `$.results[0].id`) or a regular expression whose first
/// capture group is the value.
public enum AnswerField: Sendable {
    case json(JSONPath)
    case pattern(AnswerPattern)

    public func value(in body: [UInt8]) -> String? {
        switch self {
        case .json(let path): path.value(in: body)
        case .pattern(let p): p.value(in: body)
        }
    }
}
