import Foundation
import NIOHTTP1
import PetrelAPI
import PetrelCore

/// Single-threaded costs of the accept path's pieces, in microseconds per call (`petrel-bench --scenarios micro`).
enum MicroBench {
    static func measure(_ name: String, iterations: Int = 20_000, _ body: () -> Void) {
        for _ in 0..<min(iterations / 10, 1000) { body() }
        let start = ContinuousClock.now
        for _ in 0..<iterations { body() }
        let us = (ContinuousClock.now - start).seconds * 1_000_000 / Double(iterations)
        print(String(format: "micro %-28@ %8.2f µs", name as NSString, us))
    }

    static func run() {
        let target = BenchTarget(host: "127.0.0.1", port: 8080, ak: "ak", sk: "sk")
        let params = [("Message", "Your code is 123456"), ("To", "85292012345"), ("Type", "OTP")]
        let head = target.signedHead(action: "SendMessageToGlobe", params: params)
        let request = RPCRequest(
            method: "POST",
            query: String(head.uri.dropFirst(2)),
            headers: head.headers.filter { $0.name != "Host" }.map { (name: $0.name, value: $0.value) },
            authority: target.authority
        )
        let auth = request.header("authorization")!
        let parsed = SignatureV3.parseAuthorization(auth)!
        let pairs = try! FormEncoding.decode(request.query)
        measure("client signedHead") { _ = target.signedHead(action: "SendMessageToGlobe", params: params) }
        measure("FormEncoding.decode") { _ = try! FormEncoding.decode(request.query) }
        measure("parseAuthorization") { _ = SignatureV3.parseAuthorization(auth) }
        measure("canonicalRequest") {
            _ = SignatureV3.canonicalRequest(
                request,
                queryPairs: pairs,
                signedHeaders: parsed.signedHeaders,
                payloadHash: SignatureV3.payloadHash([])
            )
        }
        measure("stringToSign(SHA256)") { _ = SignatureV3.stringToSign(canonicalRequest: "x") }
        measure("HMAC-SHA256 signature") {
            _ = SignatureV3.signature(stringToSign: "ACS3-HMAC-SHA256\nabc", secret: "sk")
        }
        measure("PhoneNumber.parse") { _ = PhoneNumber.parse("85292012345") }
        let number = try! PhoneNumber.parse("85292012345").get()
        measure("NumberDetail") { _ = NumberDetail(number) }
        measure("SMSText") { _ = SMSText("Your code is 123456") }
        measure("RequestID") { _ = RequestID.make() }
        measure("NonceGuard.digest") {
            _ = NonceGuard.digest(accessKeyId: "ak", nonce: "0123456789abcdef0123456789abcdef")
        }
        let ids = MessageIDGenerator()
        measure("MessageID") { _ = ids.next(1, nowMs: 1_780_000_000_000) }
        let fields: [(String, ResponseValue)] = [
            ("RequestId", .string(RequestID.make())), ("ResponseCode", .string("OK")),
            ("ResponseDescription", .string("The SMS Send Request was accepted")),
            ("MessageId", .string("228398346691149824")),
            ("To", .string("85292012345")), ("From", .string("")), ("Segments", .string("1")),
            (
                "NumberDetail",
                .object([("Carrier", .string("3")), ("Country", .string("Hong Kong")), ("Region", .string("HK"))])
            ),
        ]
        measure("ResponseEncoder JSON") { _ = ResponseEncoder.encode(fields, root: "", format: .json) }
        let to = "[" + (0..<1000).map { "\"\(Scenario.number($0))\"" }.joined(separator: ",") + "]"
        measure("JSONStringArray x1000", iterations: 200) { _ = JSONStringArray.parse(to) }
        measure("PhoneNumber.parse x1000", iterations: 200) {
            for i in 0..<1000 { _ = PhoneNumber.parse(Scenario.number(i)) }
        }
    }
}
