import Testing

@testable import PetrelAPI

@Suite struct SignatureVectorTests {
    static let all: [Vector] = (try? Vector.load("vectors_official.json") + Vector.load("vectors_legacy.json")) ?? []

    @Test func vectorsArePresent() throws {
        let official = try Vector.load("vectors_official.json")
        let legacy = try Vector.load("vectors_legacy.json")
        #expect(official.count >= 5)
        #expect(legacy.count >= 2)
    }

    @Test(arguments: all.filter { $0.string("canonical_request") != nil }.map(\.name))
    func v3CanonicalRequestAndSignature(name: String) throws {
        let v = try #require(Self.all.first { $0.name == name })
        let request = v.rpcRequest
        let header = try #require(request.header("authorization"))
        let auth = try #require(SignatureV3.parseAuthorization(header))
        #expect(auth.credential == v.string("credential"))
        let payload = SignatureV3.payloadHash(request.body)
        #expect(payload == v.string("payload_sha256"))
        let canonical = SignatureV3.canonicalRequest(
            request,
            queryPairs: try FormEncoding.decode(request.query),
            signedHeaders: auth.signedHeaders,
            payloadHash: payload
        )
        #expect(canonical == v.string("canonical_request"))
        let stringToSign = SignatureV3.stringToSign(canonicalRequest: canonical)
        #expect(stringToSign == v.string("string_to_sign"))
        let signature = SignatureV3.signature(stringToSign: stringToSign, secret: v.secret)
        #expect(signature == v.string("computed_signature"))
        #expect(signature == auth.signature)
    }

    @Test(arguments: all.filter { $0.string("canonicalized_query_string") != nil }.map(\.name))
    func v1StringToSignAndSignature(name: String) throws {
        let v = try #require(Self.all.first { $0.name == name })
        let request = v.rpcRequest
        var pairs = try FormEncoding.decode(request.query)
        if request.isFormBody { pairs += try FormEncoding.decode(String(decoding: request.body, as: UTF8.self)) }
        #expect(
            FormEncoding.canonicalQuery(pairs.filter { $0.0 != "Signature" }) == v.string("canonicalized_query_string")
        )
        let stringToSign = SignatureV1.stringToSign(method: request.method, parameters: pairs)
        #expect(stringToSign == v.string("string_to_sign"))
        let signature = SignatureV1.signature(stringToSign: stringToSign, secret: v.secret)
        #expect(signature == v.string("wire_signature"))
        #expect(signature == Parameters(pairs)["Signature"])
    }
}
