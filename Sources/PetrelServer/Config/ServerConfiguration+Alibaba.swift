import Foundation
import PetrelDelivery

extension ServerConfiguration {
    /// `type: http, preset: alibaba`: SendMessageToGlobe to `endpoint` (Alibaba Cloud, or another Petrel), signed
    /// with `accessKeyId`/`accessKeySecret`; receipts come back in Alibaba's report format (Petrel's own pushes).
    static func readAlibabaChannel(_ node: ConfigNode, id: String) throws -> HTTPChannelConfiguration {
        let endpoint = try node.string("endpoint", default: "https://dysmsapi.ap-southeast-1.aliyuncs.com")
        guard let url = URL(string: endpoint), let scheme = url.scheme?.lowercased(),
            scheme == "http" || scheme == "https", !(url.host ?? "").isEmpty, url.path.isEmpty || url.path == "/",
            url.query == nil
        else {
            throw ConfigNode.Failure(
                description: "\(node.key("endpoint")) must be an http:// or https:// URL with a host and no path"
            )
        }
        var ch = HTTPChannelConfiguration(id: id, url: try template(node, "endpoint", endpoint))
        guard let keyId = try node.string("accessKeyId"), !keyId.isEmpty else {
            throw ConfigNode.Failure(description: "\(node.key("accessKeyId")) is required")
        }
        guard let secret = try node.string("accessKeySecret"), !secret.isEmpty else {
            throw ConfigNode.Failure(description: "\(node.key("accessKeySecret")) is required")
        }
        ch.alibaba = AlibabaKey(id: keyId, secret: secret)
        try readCommon(node, into: &ch)
        ch.answer = try readAnswer(try node.child("answer"), try alibabaAnswer())
        if node.has("receipts") {
            ch.receipts = try readReceipts(try node.child("receipts"), preset: try alibabaReceipts())
        }
        return ch
    }

    /// SendMessageToGlobe answers `MessageId` and `ResponseCode` (OK, or why not) with HTTP 200; the gateway's
    /// own errors (signature, throttling) answer 4xx or 5xx with `Code`.
    static func alibabaAnswer() throws -> HTTPAnswerRules {
        var rules = HTTPAnswerRules()
        rules.messageId = .json(try JSONPath("$.MessageId"))
        rules.errorCode = .pattern(try AnswerPattern(#""(?:ResponseCode|Code)"\s*:\s*"([^"]*)""#))
        rules.retryCodes = ["Throttling", "Throttling.User", "Throttling.Api", "ServiceUnavailable", "InternalError"]
        return rules
    }

    /// Alibaba's SmsReport as Petrel pushes it: `MessageId`, `Status` "1" delivered, "2" failed, "6" expired,
    /// `ErrorCode`.
    static func alibabaReceipts() throws -> HTTPReceiptRules {
        var rules = HTTPReceiptRules(
            secret: "",
            messageId: .json(try JSONPath("$.MessageId")),
            status: .json(try JSONPath("$.Status"))
        )
        rules.delivered = ["1"]
        rules.failed = ["2"]
        rules.expired = ["6"]
        rules.errorCode = .json(try JSONPath("$.ErrorCode"))
        return rules
    }
}
