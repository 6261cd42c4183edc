import Foundation
import PetrelAPI
import PetrelCore
import PetrelStore

/// Signs requests the way the official Python SDK does (V3) and the legacy SDK does (V1).
struct Signer {
    var keyId = "testAccessKeyId"
    var secret = "testAccessKeySecret"
    var host = "127.0.0.1:18080"

    static func formEncode(_ pairs: [(String, String)]) -> String {
        pairs.map {
            "\(FormEncoding.percentEncode($0.0))=\(FormEncoding.percentEncode($0.1).replacingOccurrences(of: "%20", with: "+"))"
        }
        .joined(separator: "&")
    }

    func v3(
        _ action: String,
        _ params: [(String, String)],
        date: String,
        nonce: String = UUID().uuidString,
        version: String = "2018-05-01",
        body: String = "",
        signed: [String]? = nil
    ) -> RPCRequest {
        var headers: [(name: String, value: String)] = [
            ("x-acs-version", version), ("x-acs-action", action), ("x-acs-date", date),
            ("x-acs-signature-nonce", nonce),
            ("accept", "application/json"), ("x-acs-content-sha256", SignatureV3.payloadHash(Array(body.utf8))),
        ]
        if !body.isEmpty { headers.append(("content-type", "application/x-www-form-urlencoded")) }
        var request = RPCRequest(
            method: "POST",
            query: Self.formEncode(params),
            headers: headers,
            authority: host,
            body: Array(body.utf8)
        )
        let names = signed ?? (["host"] + headers.map(\.name)).sorted()
        let canonical = SignatureV3.canonicalRequest(
            request,
            queryPairs: params,
            signedHeaders: names,
            payloadHash: SignatureV3.payloadHash(Array(body.utf8))
        )
        let signature = SignatureV3.signature(
            stringToSign: SignatureV3.stringToSign(canonicalRequest: canonical),
            secret: secret
        )
        request.headers.append(
            (
                "Authorization",
                "ACS3-HMAC-SHA256 Credential=\(keyId),SignedHeaders=\(names.joined(separator: ";")),Signature=\(signature)"
            )
        )
        return request
    }

    func v1(
        _ action: String,
        _ params: [(String, String)],
        date: String,
        nonce: String = UUID().uuidString,
        method: String = "GET",
        format: String = "JSON"
    ) -> RPCRequest {
        var all =
            params + [
                ("Action", action), ("Version", "2018-05-01"), ("Format", format), ("Timestamp", date),
                ("SignatureMethod", "HMAC-SHA1"), ("SignatureType", ""), ("SignatureVersion", "1.0"),
                ("SignatureNonce", nonce),
                ("AccessKeyId", keyId),
            ]
        let sts = SignatureV1.stringToSign(method: method, parameters: all)
        all.append(("Signature", SignatureV1.signature(stringToSign: sts, secret: secret)))
        return RPCRequest(method: method, query: Self.formEncode(all), headers: [], authority: host)
    }
}

/// A temporary data directory with a real SQLite store, removed at the end.
func withStore<T>(_ body: (SQLiteStore) async throws -> T) async throws -> T {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("petrel-test-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let box = try SecretBox(key: Array(repeating: 7, count: 32))
    let store = try SQLiteStore(directory: dir, secrets: box)
    do {
        let result = try await body(store)
        try await store.close()
        return result
    } catch {
        try? await store.close()
        throw error
    }
}

final class Clock: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Int64
    init(_ ms: Int64) { value = ms }
    var ms: Int64 {
        get { lock.withLock { value } }
        set { lock.withLock { value = newValue } }
    }
}

struct Decoded {
    let status: Int
    let json: [String: Any]
    let headers: [(String, String)]

    init(_ r: RPCResponse) {
        status = r.status
        headers = r.headers
        json = (try? JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any]) ?? [:]
    }

    subscript(_ key: String) -> String? { json[key] as? String }
}
