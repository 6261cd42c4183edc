import PetrelCore

/// A provider's answer to one request, its body bounded (see `HTTPChannelConfiguration.maxAnswerBytes`).
public struct HTTPAnswer: Sendable, Equatable {
    public var status: Int
    /// `Retry-After` in seconds, when the provider sent a number.
    public var retryAfterSeconds: Int?
    public var body: [UInt8]

    public init(status: Int, retryAfterSeconds: Int? = nil, body: [UInt8] = []) {
        self.status = status
        self.retryAfterSeconds = retryAfterSeconds
        self.body = body
    }
}

/// What an answer means for the message (see `HTTPAnswerRules`).
public enum HTTPVerdict: Sendable, Equatable {
    /// Accepted; the provider's id ("" when the answer carries none or one too long to match receipts by).
    case sent(providerId: String)
    case retry(reason: String)
    case reroute(code: String, description: String)
    case failed(code: String, description: String)
}

extension HTTPAnswerRules {
    /// Reroute (by code or status) before retry before sent: a provider that answers 200 with an error code has not
    /// taken the message.
    public func verdict(_ a: HTTPAnswer) -> HTTPVerdict {
        let code = errorCode?.value(in: a.body).map { Self.printable($0, max: 64) }.flatMap { $0.isEmpty ? nil : $0 }
        let said = code.map { "HTTP \(a.status), code \($0)" } ?? "HTTP \(a.status)"
        let fallback = "HTTP_\(a.status)"
        if let code, rerouteCodes.contains(code) {
            return .reroute(code: code, description: "The provider cannot route it (\(said))")
        }
        if reroute.contains(where: { $0.contains(a.status) }) {
            return .reroute(code: code ?? fallback, description: "The provider cannot route it (\(said))")
        }
        if let code, retryCodes.contains(code) { return .retry(reason: "the provider answered \(said)") }
        if retry.contains(where: { $0.contains(a.status) }) { return .retry(reason: "the provider answered \(said)") }
        if sent.contains(where: { $0.contains(a.status) }) {
            guard let messageId else { return .sent(providerId: "") }
            if let id = messageId.value(in: a.body), !id.isEmpty {
                // A longer id cannot be stored to match receipts (CarrierID); the message still went.
                return .sent(providerId: CarrierID.accepted(id) == nil ? "" : id)
            }
            if let code {
                return .failed(code: code, description: "The provider refused it (\(said))")
            }
            return .failed(
                code: "NO_MESSAGE_ID",
                description: "The provider answered HTTP \(a.status) without a message id at \(messageId)"
            )
        }
        return .failed(code: code ?? fallback, description: "The provider refused it (\(said))")
    }

    /// A provider's value as it may go into a message's row: control characters dropped, bounded.
    static func printable(_ s: String, max: Int) -> String {
        String(
            String.UnicodeScalarView(s.unicodeScalars.lazy.filter { $0.value >= 0x20 && $0.value != 0x7F }.prefix(max))
        )
    }
}

extension AnswerField: CustomStringConvertible {
    public var description: String {
        switch self {
        case .json(let p): p.description
        case .pattern(let p): "/\(p.source)/"
        }
    }
}
