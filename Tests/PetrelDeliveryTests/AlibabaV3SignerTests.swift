import Foundation
import Testing

@testable import PetrelDelivery

/// The client-side signer against the requests the official SDK signed (tests/vectors, which PetrelAPI's verifier
/// is tested with too): same canonical request, same signature.
@Suite struct AlibabaV3SignerTests {
    struct Vector: Decodable {
        struct Request: Decodable {
            let method: String
            let target: String
            let headers: [[String]]
            let body: String
        }
        let name: String
        let secret: String
        let request: Request
        let signature: [String: String?]
    }

    static func vectors() throws -> [Vector] {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let url = repository.appendingPathComponent("tests/vectors/vectors_official.json")
        // Only the V3 ones (the others are RPC v1, HMAC-SHA1).
        return try JSONDecoder().decode([Vector].self, from: Data(contentsOf: url)).filter { $0.name.hasPrefix("v3") }
    }

    static func decode(_ s: Substring) -> String {
        String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(s)
    }

    @Test func signsAsTheOfficialSDK() throws {
        let vectors = try Self.vectors()
        #expect(vectors.count == 4)
        for v in vectors {
            let parts = v.request.target.split(separator: "?", maxSplits: 1)
            let query: [(String, String)] =
                parts.count > 1
                ? parts[1].split(separator: "&").map { pair in
                    let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                    return (Self.decode(kv[0]), kv.count > 1 ? Self.decode(kv[1]) : "")
                } : []
            let authorization = try #require(v.request.headers.first { $0[0] == "Authorization" }?[1])
            let signedPart = try #require(authorization.split(separator: ",").first { $0.hasPrefix("SignedHeaders=") })
            let signed = Set(signedPart.dropFirst("SignedHeaders=".count).split(separator: ";").map(String.init))
            let headers = v.request.headers.filter { signed.contains($0[0].lowercased()) }.map { ($0[0], $0[1]) }
            let keyId = try #require(v.signature["credential"] ?? nil)
            let made = AlibabaV3Signer.authorization(
                method: v.request.method,
                path: String(parts[0]),
                query: query,
                headers: headers,
                body: Array(v.request.body.utf8),
                accessKeyId: keyId,
                secret: v.secret
            )
            let (canonical, _) = AlibabaV3Signer.canonicalRequest(
                method: v.request.method,
                path: String(parts[0]),
                query: query,
                headers: headers,
                body: Array(v.request.body.utf8)
            )
            #expect(canonical == v.signature["canonical_request"] ?? nil, "\(v.name)")
            #expect(made == authorization, "\(v.name)")
        }
    }

    @Test func datesAreUTCWholeSeconds() {
        #expect(AlibabaV3Signer.date(ms: 1_773_500_966_999) == "2026-03-14T15:09:26Z")
    }
}
