import AsyncHTTPClient
import NIOHTTP1
import PetrelCore

extension HTTPCarrierChannel {
    /// `preset: alibaba`: a SendMessageToGlobe (dysmsapi 2018-05-01) call as the official SDK makes it: parameters
    /// in the query, an empty body, signed with ACS3-HMAC-SHA256 over the headers below (the host as sent).
    static func alibabaRequest(for m: Message, endpoint: String, key: AlibabaKey, nowMs: Int64) -> HTTPClientRequest {
        let https = endpoint.lowercased().hasPrefix("https://")
        let (host, port) = hostAndPort(endpoint)
        let authority = port == (https ? 443 : 80) ? host : "\(host):\(port)"
        var query = [("To", m.to), ("Message", m.text), ("Type", m.type.rawValue)]
        if !m.from.isEmpty { query.append(("From", m.from)) }
        if let expiry = m.expiresAtMs {
            // What is left of its validity (the upstream refuses 0).
            query.append(("ValidityPeriod", "\(max(1, (expiry - nowMs) / 1000))"))
        }
        let nonce = (0..<16).map { _ in UInt8.random(in: 0...255) }
        let headers = [
            ("host", authority),
            ("accept", "application/json"),
            ("x-acs-action", "SendMessageToGlobe"),
            ("x-acs-version", "2018-05-01"),
            ("x-acs-date", AlibabaV3Signer.date(ms: nowMs)),
            ("x-acs-signature-nonce", AlibabaV3Signer.hex(nonce)),
            ("x-acs-content-sha256", AlibabaV3Signer.payloadHash([])),
        ]
        let authorization = AlibabaV3Signer.authorization(
            method: "POST",
            path: "/",
            query: query,
            headers: headers,
            body: [],
            accessKeyId: key.id,
            secret: key.secret
        )
        let base = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        var request = HTTPClientRequest(url: "\(base)/?\(AlibabaV3Signer.canonicalQuery(query))")
        request.method = .POST
        for (name, value) in headers { request.headers.replaceOrAdd(name: name, value: value) }
        request.headers.add(name: "Authorization", value: authorization)
        return request
    }
}
