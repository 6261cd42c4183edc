import Foundation
import PetrelCore
import PetrelStore
import Testing

@testable import PetrelDelivery

@Suite struct HTTPChannelRulesTests {
    static let hostile = Message(
        id: 42,
        account: "a",
        to: "6581234567",
        from: "Shop & Co",
        text: "a \"quote\" \\ and\r\nX-Injected: 1\u{1} {x} ${to} é",
        type: .otp,
        segments: 2,
        createdAtMs: 0
    )

    @Test func aJSONBodyStaysJSONWhateverTheTextHolds() throws {
        let t = try MessageTemplate(
            #"{"to":"+${to}","text":"${text}","parts":${parts},"id":"${messageId}","type":"${type}"}"#
        )
        let body = t.render(Self.hostile, escaping: .json)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        #expect(object["text"] as? String == Self.hostile.text)
        #expect(object["to"] as? String == "+6581234567")
        #expect(object["parts"] as? Int == 2)
        #expect(object["id"] as? String == "42")
        #expect(object["type"] as? String == "OTP")
    }

    @Test func formURLAndHeaderValuesAreEscapedForWhereTheyGo() throws {
        let t = try MessageTemplate("${from}")
        #expect(t.render(Self.hostile, escaping: .form) == "Shop+%26+Co")
        #expect(t.render(Self.hostile, escaping: .url) == "Shop%20%26%20Co")
        let text = try MessageTemplate("${text}")
        let header = text.render(Self.hostile, escaping: .header)
        #expect(!header.contains("\r") && !header.contains("\n") && !header.contains("\u{1}"))
        // The text's own "${to}" is not filled in a second time.
        #expect(header.contains("${to}"))
        #expect(text.render(Self.hostile, escaping: .url).contains("%C3%A9"))
    }

    @Test func onlyKnownPlaceholdersAreAccepted() throws {
        #expect(throws: MessageTemplate.Failure.self) { try MessageTemplate("${secret}") }
        #expect(throws: MessageTemplate.Failure.self) { try MessageTemplate("${to") }
        // A dollar that opens no placeholder is text.
        let t = try MessageTemplate("$5 for ${to}$")
        #expect(t.render(Self.hostile, escaping: .header) == "$5 for 6581234567$")
        #expect(t.fields == [.to])
    }

    @Test func jsonPathsFindStringsAndNumbers() throws {
        let body = Array(#"{"data":{"id":"abc"},"results":[{"id":12345678901}],"ok":true,"n":null}"#.utf8)
        #expect(try JSONPath("$.data.id").value(in: body) == "abc")
        #expect(try JSONPath("results[0].id").value(in: body) == "12345678901")
        #expect(try JSONPath("$.results[1].id").value(in: body) == nil)
        #expect(try JSONPath("$.data").value(in: body) == nil)
        #expect(try JSONPath("$.n").value(in: body) == nil)
        #expect(try JSONPath("$.data.id").value(in: Array("<html>garbage".utf8)) == nil)
        #expect(try JSONPath("$.data.id").value(in: Array(String(repeating: "[", count: 100_000).utf8)) == nil)
        #expect(throws: JSONPath.Failure.self) { try JSONPath("$.a[x]") }
        #expect(throws: JSONPath.Failure.self) { try JSONPath("$") }
    }

    static func rules() throws -> HTTPAnswerRules {
        var r = HTTPAnswerRules()
        r.messageId = .json(try JSONPath("$.id"))
        r.errorCode = .json(try JSONPath("$.error"))
        r.reroute = [404...404]
        r.rerouteCodes = ["NO_ROUTE"]
        r.retryCodes = ["BUSY"]
        return r
    }

    static func answer(_ status: Int, _ body: String) -> HTTPAnswer {
        HTTPAnswer(status: status, body: Array(body.utf8))
    }

    @Test func answersAreClassified() throws {
        let r = try Self.rules()
        #expect(r.verdict(Self.answer(200, #"{"id":"P-1"}"#)) == .sent(providerId: "P-1"))
        #expect(
            r.verdict(Self.answer(400, #"{"error":"BAD_NUMBER"}"#))
                == .failed(code: "BAD_NUMBER", description: "The provider refused it (HTTP 400, code BAD_NUMBER)")
        )
        #expect(
            r.verdict(Self.answer(401, "nope"))
                == .failed(code: "HTTP_401", description: "The provider refused it (HTTP 401)")
        )
        #expect(r.verdict(Self.answer(503, "")) == .retry(reason: "the provider answered HTTP 503"))
        #expect(
            r.verdict(Self.answer(200, #"{"error":"BUSY"}"#))
                == .retry(reason: "the provider answered HTTP 200, code BUSY")
        )
        guard case .reroute(let code, _) = r.verdict(Self.answer(404, "")) else {
            Issue.record("404 is a routing failure here")
            return
        }
        #expect(code == "HTTP_404")
        guard case .reroute(let code2, _) = r.verdict(Self.answer(200, #"{"error":"NO_ROUTE"}"#)) else {
            Issue.record("NO_ROUTE is a routing failure here")
            return
        }
        #expect(code2 == "NO_ROUTE")
    }

    @Test func anAcceptedAnswerWithoutAnIdIsNotCountedSent() throws {
        let r = try Self.rules()
        #expect(r.verdict(Self.answer(200, #"{"error":"THROTTLED"}"#)).isFailed(code: "THROTTLED"))
        #expect(r.verdict(Self.answer(200, "{garbage")).isFailed(code: "NO_MESSAGE_ID"))
        // Too long to match receipts by: sent, without an id.
        let long = String(repeating: "9", count: 65)
        #expect(r.verdict(Self.answer(200, #"{"id":"\#(long)"}"#)) == .sent(providerId: ""))
        // A provider's code goes into the message's row: no control characters, bounded.
        let code = String(repeating: #"E\u0007"#, count: 100)
        guard case .failed(let stored, _) = r.verdict(Self.answer(400, #"{"error":"\#(code)"}"#)) else {
            Issue.record("a 400 is a refusal")
            return
        }
        #expect(stored == String(repeating: "E", count: 64))
    }

    @Test func aPatternPicksItsFirstGroup() throws {
        var r = HTTPAnswerRules()
        r.messageId = .pattern(try AnswerPattern(#"OK id=(\w+)"#))
        #expect(r.verdict(Self.answer(200, "OK id=abc123\n")) == .sent(providerId: "abc123"))
        #expect(r.verdict(Self.answer(200, "ERR 7")).isFailed(code: "NO_MESSAGE_ID"))
    }

    @Test func retriesBackOffUpToTheLimit() {
        var c = HTTPChannelConfiguration(id: "x", url: try! MessageTemplate("http://h/"))
        c.retryMinMs = 1000
        c.retryMaxMs = 30_000
        #expect(c.retryDelay(failures: 1, retryAfterSeconds: nil) == 1000)
        #expect(c.retryDelay(failures: 2, retryAfterSeconds: nil) == 2000)
        #expect(c.retryDelay(failures: 5, retryAfterSeconds: nil) == 16_000)
        #expect(c.retryDelay(failures: 6, retryAfterSeconds: nil) == 30_000)
        #expect(c.retryDelay(failures: Int.max, retryAfterSeconds: nil) == 30_000)
        #expect(c.retryDelay(failures: 1, retryAfterSeconds: 7) == 7000)
        #expect(c.retryDelay(failures: 1, retryAfterSeconds: 86_400) == 30_000)
        #expect(c.retryDelay(failures: 1, retryAfterSeconds: 0) == 1000)
    }

    @Test func theTargetNamesHostAndPortOnly() {
        #expect(HTTPCarrierChannel.target("https://user:pw@api.example.com/v1/sms?key=secret") == "api.example.com:443")
        #expect(HTTPCarrierChannel.target("http://127.0.0.1:8080/send") == "127.0.0.1:8080")
    }
}

extension HTTPVerdict {
    func isFailed(code: String) -> Bool {
        if case .failed(let c, _) = self { return c == code }
        return false
    }
}

@Suite struct HTTPReceiptRulesTests {
    static func rules() throws -> HTTPReceiptRules {
        var r = HTTPReceiptRules(
            secret: "0123456789abcdef",
            messageId: .json(try JSONPath("$.id")),
            status: .json(try JSONPath("$.status"))
        )
        r.delivered = ["DELIVRD"]
        r.failed = ["UNDELIV"]
        r.expired = ["EXPIRED"]
        r.errorCode = .json(try JSONPath("$.err"))
        r.time = try JSONPath("$.at")
        return r
    }

    @Test func onlyTheSecretIsAccepted() throws {
        let r = try Self.rules()
        #expect(r.accepts(secret: "0123456789abcdef"))
        #expect(!r.accepts(secret: "0123456789abcdeF"))
        #expect(!r.accepts(secret: ""))
        var empty = r
        empty.secret = ""
        #expect(!empty.accepts(secret: ""))
    }

    @Test func objectsArraysAndFormsAreRead() throws {
        let r = try Self.rules()
        let array =
            Array(
                #"[{"id":"A1","status":"delivrd","at":1700000000},{"id":"A2","status":"UNDELIV","err":"ABSENT"},"#.utf8
            )
            + Array(
                #"{"id":"A3","status":"ENROUTE"},{"status":"DELIVRD"},{"id":"A4","status":"EXPIRED","at":"x"}]"#.utf8
            )
        let now: Int64 = 1_800_000_000_000
        let reading = try #require(r.read(array, form: false, channel: "acme", nowMs: now))
        #expect(reading.passedOver == 2)
        #expect(
            reading.receipts == [
                CarrierReceipt(channel: "acme", carrierId: "A1", status: .delivered, atMs: 1_700_000_000_000),
                CarrierReceipt(channel: "acme", carrierId: "A2", status: .failed, errorCode: "ABSENT", atMs: now),
                CarrierReceipt(channel: "acme", carrierId: "A4", status: .expired, errorCode: "EXPIRED", atMs: now),
            ]
        )
        let form = try #require(
            r.read(Array("id=B%201&status=UNDELIV&err=X+Y".utf8), form: true, channel: "acme", nowMs: 5)
        )
        #expect(
            form.receipts == [
                CarrierReceipt(channel: "acme", carrierId: "B 1", status: .failed, errorCode: "X Y", atMs: 5)
            ]
        )
        #expect(r.read(Array("{nope".utf8), form: false, channel: "acme", nowMs: 5) == nil)
        #expect(r.read(Array("&&=&=x&".utf8), form: true, channel: "acme", nowMs: 5)?.passedOver == 1)
    }

    /// ISO 8601 times parse to seconds: they were taken for milliseconds (a delivery in January 1970). A time
    /// after the receipt arrived, or before 1970, is the arrival's.
    @Test func receiptTimesAreMillisecondsAndNeverLaterThanArrival() throws {
        let r = try Self.rules()
        let now: Int64 = 1_800_000_000_000
        func at(_ value: String) throws -> Int64 {
            let body = Array(#"{"id":"A1","status":"DELIVRD","at":\#(value)}"#.utf8)
            return try #require(r.read(body, form: false, channel: "acme", nowMs: now)?.receipts.first).atMs
        }
        #expect(try at(#""2025-06-01T12:00:00Z""#) == 1_748_779_200_000)
        #expect(try at("1748779200") == 1_748_779_200_000)
        #expect(try at("4102444800") == now)
        #expect(try at("9223372036854775807") == now)
        #expect(try at(#""2999-01-01T00:00:00Z""#) == now)
        #expect(try at(#""0001-01-01T00:00:00Z""#) == now)
    }

    /// A body of a million tiny items was read item by item, each a receipt to store: it is refused whole.
    @Test func aBodyWithTooManyItemsIsRefused() throws {
        var r = try Self.rules()
        r.maxItems = 3
        let item = #"{"id":"A1","status":"DELIVRD"}"#
        let three = Array("[\(Array(repeating: item, count: 3).joined(separator: ","))]".utf8)
        let four = Array("[\(Array(repeating: item, count: 4).joined(separator: ","))]".utf8)
        let fine = try #require(r.read(three, form: false, channel: "acme", nowMs: 5))
        #expect(!fine.tooMany && fine.receipts.count == 3)
        let refused = try #require(r.read(four, form: false, channel: "acme", nowMs: 5))
        #expect(refused.tooMany && refused.receipts.isEmpty)
        #expect(HTTPReceiptRules(secret: "s", messageId: r.messageId, status: r.status).maxItems == 1000)
    }

    /// What a provider may put where an id, a status, a time or a code goes: numbers beyond Int64 and Double,
    /// booleans, containers, JSON nested beyond any sense. Nothing traps; nothing odd becomes a receipt.
    @Test func hostileValuesNeitherTrapNorBecomeReceipts() throws {
        let r = try Self.rules()
        let odd = [
            "1e300", "-1e300", "1e400", "18446744073709551616", "-9223372036854775809", "-0", "0.5", "true",
            "null", "[]", "{}", "[1e400]",
        ]
        for v in odd {
            let body = Array(#"{"id":\#(v),"status":"DELIVRD","at":\#(v),"err":\#(v)}"#.utf8)
            let reading = r.read(body, form: false, channel: "acme", nowMs: 5)
            for receipt in reading?.receipts ?? [] {
                #expect(receipt.atMs == 5, "\(v)")
                #expect(!receipt.carrierId.isEmpty)
            }
            let status = Array(#"{"id":"A1","status":\#(v)}"#.utf8)
            #expect((r.read(status, form: false, channel: "acme", nowMs: 5)?.receipts ?? []) == [], "\(v)")
        }
        let deep =
            Array(repeating: UInt8(ascii: "["), count: 200_000) + Array(repeating: UInt8(ascii: "]"), count: 200_000)
        #expect(r.read(deep, form: false, channel: "acme", nowMs: 5) == nil)
        #expect(try JSONPath("$.a").value(in: deep) == nil)
    }
}
