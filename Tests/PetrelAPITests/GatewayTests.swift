import Foundation
import PetrelCore
import PetrelStore
import Synchronization
import Testing

@testable import PetrelAPI

@Suite struct GatewayTests {
    static let date = "2025-06-01T12:00:00Z"
    static let nowMs: Int64 = 1_748_779_200_000  // 2025-06-01T12:00:00Z

    /// The gateway's two entry points: the waiting one (a task per request), and the one the server's RPC door
    /// uses on its event loop (sends served without a task, the rest handed to a task). Every test runs through
    /// both, so they give the same answers.
    enum Door: CaseIterable {
        case task, eventLoop
    }

    struct Harness {
        let gateway: Gateway
        let store: SQLiteStore
        let clock: Clock
        let signer = Signer()
        let nonces: NonceGuard
        let door: Door

        func call(_ r: RPCRequest) async -> Decoded { Decoded(await handle(r)) }
        func handle(_ r: RPCRequest) async -> RPCResponse {
            switch door {
            case .task: return await gateway.handle(r)
            case .eventLoop: return await withCheckedContinuation { c in gateway.handle(r) { c.resume(returning: $0) } }
            }
        }
        func send(_ action: String, _ params: [(String, String)]) async -> Decoded {
            await call(signer.v3(action, params, date: GatewayTests.date))
        }
    }

    func harness(
        _ door: Door,
        limits: [String: Double] = [:],
        policy: String? = nil,
        sendLimits: SendLimits? = nil,
        halts: PumpingHaltBoard = PumpingHaltBoard(),
        optOut: OptOutBoard = OptOutBoard(),
        signs: SignSettings = SignSettings(),
        _ body: (Harness) async throws -> Void
    ) async throws {
        try await withStore { store in
            try await store.putAccessKey(
                AccessKeyRecord(
                    id: "testAccessKeyId",
                    secret: "testAccessKeySecret",
                    account: "acme",
                    name: "test",
                    policy: policy,
                    createdAtMs: 0
                )
            )
            let clock = Clock(Self.nowMs)
            let env = APIEnvironment(
                store: store,
                ids: MessageIDGenerator(),
                channels: { ["sandbox"] },
                limits: { _ in sendLimits },
                halts: halts,
                optOut: optOut,
                signs: signs
            )
            let nonces = NonceGuard()
            let gateway = Gateway(
                env: env,
                nonces: nonces,
                throttle: Throttle(limits: limits),
                hostId: "petrel.test",
                clock: { clock.ms }
            )
            try await body(Harness(gateway: gateway, store: store, clock: clock, nonces: nonces, door: door))
        }
    }

    @Test(arguments: Door.allCases) func batchAcceptsValidNumbersAndListsTheRest(door: Door) async throws {
        try await harness(door) { h in
            let to = #"["85291234567", "+6581234567", "85200000001", "8613800138000", "00447400123456"]"#
            let msg = #"["a", "b", "c", "d", "e"]"#
            let r = await h.send(
                "BatchSendMessageToGlobe",
                [("To", to), ("Message", msg), ("From", "Alicloud321"), ("TaskId", "t-1")]
            )
            #expect(r.status == 200)
            #expect(r["ResponseCode"] == "OK")
            #expect(r["SuccessCount"] == "3")
            #expect(r["From"] == "Alicloud321")
            #expect(r["FailedList"] == #"["85200000001","8613800138000"]"#)
            let idList = try #require(r["MessageIdList"])
            let ids = try #require(JSONStringArray.parse(idList))
            #expect(ids.count == 3)
            let stored = try #require(try await h.store.message(id: Int64(ids[1])!, account: "acme"))
            #expect(
                stored.to == "6581234567" && stored.text == "b" && stored.taskId == "t-1" && stored.priority == .normal
            )
            #expect(stored.expiresAtMs == Self.nowMs + 48 * 3600 * 1000)
            let foreign = try await h.store.message(id: Int64(ids[0])!, account: "other")
            #expect(foreign == nil)
        }
    }

    @Test(arguments: Door.allCases) func batchRejections(door: Door) async throws {
        try await harness(door) { h in
            let many = "[" + (0..<1001).map { _ in "\"85291234567\"" }.joined(separator: ",") + "]"
            let texts = "[" + (0..<1001).map { _ in "\"x\"" }.joined(separator: ",") + "]"
            var r = await h.send("BatchSendMessageToGlobe", [("To", many), ("Message", texts)])
            #expect(r["ResponseCode"] == "MOBILE_COUNT_OVER_LIMIT")
            let total = try await h.store.counts().values.reduce(0, +)
            #expect(total == 0)
            r = await h.send("BatchSendMessageToGlobe", [("To", "85291234567"), ("Message", #"["x"]"#)])
            #expect(r["ResponseCode"] == "INVALID_JSON_PARAM")
            r = await h.send("BatchSendMessageToGlobe", [("To", #"[85291234567]"#), ("Message", #"["x"]"#)])
            #expect(r["ResponseCode"] == "INVALID_JSON_PARAM")
            r = await h.send("BatchSendMessageToGlobe", [("To", #"["85291234567"]"#), ("Message", #"{"a":"x"}"#)])
            #expect(r["ResponseCode"] == "INVALID_JSON_PARAM")
            r = await h.send("BatchSendMessageToGlobe", [("To", #"["85291234567"]"#), ("Message", #"["x","y"]"#)])
            #expect(r["ResponseCode"] == "INVALID_PARAMETERS")
            r = await h.send(
                "BatchSendMessageToGlobe",
                [("To", #"["85291234567"]"#), ("Message", #"["x"]"#), ("From", "Too-Long-Sender-Id")]
            )
            #expect(r["ResponseCode"] == "INVALID_SENDERID")
            r = await h.send(
                "BatchSendMessageToGlobe",
                [("To", #"["85291234567"]"#), ("Message", #"["x"]"#), ("Type", "OTP")]
            )
            #expect(r["ResponseCode"] == "INVALID_PARAMETERS")
            r = await h.send(
                "BatchSendMessageToGlobe",
                [("To", #"["85291234567"]"#), ("Message", #"["x"]"#), ("TaskId", String(repeating: "t", count: 256))]
            )
            #expect(r["ResponseCode"] == "INVALID_PARAMETERS")
            r = await h.send(
                "BatchSendMessageToGlobe",
                [("To", #"["85291234567"]"#), ("Message", #"["x"]"#), ("ValidityPeriod", "-5")]
            )
            #expect(r["ResponseCode"] == "INVALID_PARAMETERS")
            r = await h.send(
                "BatchSendMessageToGlobe",
                [("To", #"["85291234567"]"#), ("Message", #"["x"]"#), ("ChannelId", "nope")]
            )
            #expect(r["ResponseCode"] == "INVALID_PARAMETERS")
            r = await h.send("BatchSendMessageToGlobe", [("To", #"["85200000001"]"#), ("Message", #"["x"]"#)])
            #expect(r["ResponseCode"] == "MOBILE_NUMBER_ILLEGAL")
            #expect(r["SuccessCount"] == "0")
            r = await h.send("BatchSendMessageToGlobe", [("Message", #"["x"]"#)])
            #expect(r.status == 400 && r["Code"] == "MissingTo" && r["Message"] == "To is mandatory for this action.")
            let after = try await h.store.counts().values.reduce(0, +)
            #expect(after == 0)
        }
    }

    @Test(arguments: Door.allCases) func singleSendAndQuery(door: Door) async throws {
        try await harness(door) { h in
            let r = await h.send(
                "SendMessageToGlobe",
                [
                    ("To", "85291234567"), ("Message", String(repeating: "中", count: 71)), ("Type", "OTP"),
                    ("From", "Petrel"),
                ]
            )
            #expect(r["ResponseCode"] == "OK")
            #expect(r["Segments"] == "2")
            #expect(r["To"] == "85291234567")
            let detail = try #require(r.json["NumberDetail"] as? [String: String])
            #expect(detail["Country"] == "Hong Kong" && detail["Region"] == "HK")
            let id = try #require(r["MessageId"])
            let q = await h.send("QueryMessage", [("MessageId", id)])
            #expect(q["ResponseCode"] == "OK")
            #expect(q["Status"] == "3")
            #expect(q["To"] == "85291234567")
            #expect(q["SendDate"] == "Sun, 01 Jun 2025 20:00:00 +0800")
            let unknown = await h.send("QueryMessage", [("MessageId", "123")])
            #expect(unknown["ResponseCode"] == "INVALID_PARAMETERS")
            let bad = await h.send("SendMessageToGlobe", [("To", "8613800138000"), ("Message", "x")])
            #expect(bad["ResponseCode"] == "MOBILE_NUMBER_ILLEGAL")
        }
    }

    /// Issue 20 F5: lengths counted grapheme clusters and the rendered template was never checked, so one letter
    /// with 40,000 combining marks, or a 70,000-character template value, was accepted (and trapped the SMPP
    /// encoder). The bound is now what the carrier sees, on every send path.
    @Test(arguments: Door.allCases) func textsAreBoundedByEncodedUnits(door: Door) async throws {
        try await harness(door) { h in
            func single(_ text: String) async -> Decoded {
                await h.send("SendMessageToGlobe", [("To", "85291234567"), ("Message", text)])
            }
            let marks = "e" + String(repeating: "\u{301}", count: 40_000)
            var r = await single(marks)
            #expect(r["ResponseCode"] == "isv.PARAM_LENGTH_LIMIT")
            #expect(
                r["ResponseDescription"]
                    == "Message is too long. The text is 40001 UCS-2 code units long; at most 1600 are accepted."
            )
            #expect(await single(String(repeating: "a", count: 1600))["ResponseCode"] == "OK")
            #expect(await single(String(repeating: "a", count: 1601))["ResponseCode"] == "isv.PARAM_LENGTH_LIMIT")
            // 1602 septets
            #expect(await single(String(repeating: "€", count: 801))["ResponseCode"] == "isv.PARAM_LENGTH_LIMIT")
            #expect(await single(String(repeating: "😀", count: 800))["ResponseCode"] == "OK")  // 1600 units
            #expect(await single(String(repeating: "😀", count: 801))["ResponseCode"] == "isv.PARAM_LENGTH_LIMIT")

            try await h.store.putTemplate(
                TemplateRecord(account: "acme", code: "SMS_9", text: "Code ${code}", createdAtMs: 0)
            )
            func template(_ value: String) async -> Decoded {
                let param = String(
                    decoding: try! JSONSerialization.data(withJSONObject: ["code": value]),
                    as: UTF8.self
                )
                return await h.send(
                    "SendMessageWithTemplate",
                    [("To", "8613800138000"), ("From", "Acme"), ("TemplateCode", "SMS_9"), ("TemplateParam", param)]
                )
            }
            r = await template(String(repeating: "x", count: 70_000))
            #expect(r["ResponseCode"] == "isv.PARAM_LENGTH_LIMIT")
            // A value no message could hold is refused before rendering.
            #expect(
                r["ResponseDescription"]
                    == "A template variable's value is longer than a message may be (1600 characters)."
            )
            #expect(await template(String(repeating: "x", count: 1595))["ResponseCode"] == "OK")
            #expect(await template(String(repeating: "x", count: 1596))["ResponseCode"] == "isv.PARAM_LENGTH_LIMIT")

            let long = String(repeating: "中", count: 1601)
            r = await h.send(
                "BatchSendMessageToGlobe",
                [("To", #"["85291234567","6581234567"]"#), ("Message", "[\"\(long)\",\"\(marks)\"]")]
            )
            #expect(r["ResponseCode"] == "isv.PARAM_LENGTH_LIMIT" && r["SuccessCount"] == "0")
            #expect(r["FailedList"] == #"["85291234567","6581234567"]"#)
            r = await h.send(
                "BatchSendMessageToGlobe",
                [("To", #"["85291234567","6581234567"]"#), ("Message", "[\"ok\",\"\(long)\"]")]
            )
            #expect(r["ResponseCode"] == "OK" && r["SuccessCount"] == "1" && r["FailedList"] == #"["6581234567"]"#)
            let stored = try await h.store.counts().values.reduce(0, +)
            #expect(stored == 4)
        }
    }

    @Test(arguments: Door.allCases) func templatesAndConversions(door: Door) async throws {
        try await harness(door) { h in
            try await h.store.putTemplate(
                TemplateRecord(account: "acme", code: "SMS_1", text: "Code ${code}", createdAtMs: 0)
            )
            var r = await h.send(
                "SendMessageWithTemplate",
                [
                    ("To", "8613800138000"), ("From", "Acme"), ("TemplateCode", "SMS_1"),
                    ("TemplateParam", #"{"code": 1234}"#),
                ]
            )
            #expect(r["ResponseCode"] == "OK")
            let messageId = try #require(r["MessageId"])
            let m = try #require(try await h.store.message(id: Int64(messageId)!, account: "acme"))
            #expect(m.text == "Code 1234" && m.from == "Acme")
            r = await h.send(
                "SendMessageWithTemplate",
                [("To", "8613800138000"), ("From", "Acme"), ("TemplateCode", "SMS_2")]
            )
            #expect(r["ResponseCode"] == "SMS_CONTENT_CODE_ILLEGAL")
            r = await h.send(
                "SendMessageWithTemplate",
                [("To", "8613800138000"), ("From", "Acme"), ("TemplateCode", "SMS_1")]
            )
            #expect(r["ResponseCode"] == "CONTENT_MISSING_PARAMETERS")
            r = await h.send(
                "SendMessageWithTemplate",
                [("To", "8613800138000"), ("From", "Acme"), ("TemplateCode", "SMS_1"), ("TemplateParam", "[1]")]
            )
            #expect(r["ResponseCode"] == "INVALID_JSON_PARAM")
            // A value no message could hold is refused before the template repeats it.
            let huge = String(repeating: "x", count: 3 * 1600 + 1)
            r = await h.send(
                "SendMessageWithTemplate",
                [
                    ("To", "8613800138000"), ("From", "Acme"), ("TemplateCode", "SMS_1"),
                    ("TemplateParam", #"{"code":"\#(huge)"}"#),
                ]
            )
            #expect(r["ResponseCode"] == "isv.PARAM_LENGTH_LIMIT")
            #expect(r["ResponseDescription"]?.contains("value is longer than a message may be") == true)
            // TaskId and From are counted in code points: one Character with 2,000 combining marks is too long.
            let heavy = "e" + String(repeating: "\u{301}", count: 2000)
            r = await h.send(
                "SendMessageWithTemplate",
                [("To", "8613800138000"), ("From", heavy), ("TemplateCode", "SMS_1"), ("TemplateParam", "{}")]
            )
            #expect(r["ResponseCode"] == "SMS_SIGN_NAME_ILLEGAL")
            r = await h.send(
                "BatchSendMessageToGlobe",
                [("To", #"["85291234567"]"#), ("Message", #"["x"]"#), ("TaskId", heavy)]
            )
            #expect(r["ResponseCode"] == "INVALID_PARAMETERS")

            r = await h.send(
                "SmsConversion",
                [("MessageId", String(m.id)), ("Delivered", "True"), ("ConversionTime", "1349055900000")]
            )
            #expect(r["ResponseCode"] == "OK")
            r = await h.send("SmsConversion", [("MessageId", String(m.id)), ("Delivered", "maybe")])
            #expect(r["ResponseCode"] == "INVALID_PARAMETERS")
            r = await h.send(
                "SmsConversion",
                [("MessageId", String(m.id)), ("Delivered", "false"), ("ConversionTime", "yesterday")]
            )
            #expect(r["ResponseCode"] == "INVALID_PARAMETERS")
            let conversions = try await h.store.conversions(account: "acme")
            #expect(
                conversions.count == 1 && conversions[0].delivered
                    && conversions[0].conversionTimeMs == 1_349_055_900_000
            )

            let body = "ConversionRate=0.53&ReportTime=1349055900000"
            let d = await h.call(h.signer.v3("ConversionData", [], date: GatewayTests.date, body: body))
            #expect(d["ResponseCode"] == "OK")
            let data = try await h.store.conversionData(account: "acme")
            #expect(data.first?.rate == 0.53)
            let wrong = await h.call(
                h.signer.v3("ConversionData", [], date: GatewayTests.date, body: "ConversionRate=1.5")
            )
            #expect(wrong["ResponseCode"] == "INVALID_PARAMETERS")
        }
    }

    @Test(arguments: Door.allCases) func authenticationErrors(door: Door) async throws {
        try await harness(door) { h in
            var bad = h.signer
            bad.secret = "wrong"
            var r = await h.call(bad.v3("QueryMessage", [("MessageId", "1")], date: Self.date))
            #expect(r.status == 400 && r["Code"] == "SignatureDoesNotMatch")
            #expect(
                r["Message"]?.hasPrefix(
                    "Specified signature is not matched with our calculation. server string to sign is:ACS3-HMAC-SHA256\n"
                ) == true
            )
            #expect(r["HostId"] == "petrel.test" && r["RequestId"]?.count == 36)

            var unknown = h.signer
            unknown.keyId = "nobody"
            r = await h.call(unknown.v3("QueryMessage", [("MessageId", "1")], date: Self.date))
            #expect(r.status == 404 && r["Code"] == "InvalidAccessKeyId.NotFound")

            r = await h.call(h.signer.v3("QueryMessage", [("MessageId", "1")], date: "2025-06-01T11:44:00Z"))
            #expect(r["Code"] == "InvalidTimeStamp.Expired")
            r = await h.call(h.signer.v3("QueryMessage", [("MessageId", "1")], date: "2025-06-01 12:00:00"))
            #expect(r["Code"] == "InvalidTimeStamp.Format")
            r = await h.call(
                h.signer.v3("QueryMessage", [("MessageId", "1")], date: Self.date, signed: ["host", "x-acs-action"])
            )
            #expect(r["Code"] == "IncompleteSignature")
            r = await h.call(h.signer.v3("NoSuchAction", [], date: Self.date))
            #expect(r.status == 404 && r["Code"] == "InvalidAction.NotFound")
            r = await h.call(h.signer.v3("QueryMessage", [], date: Self.date, version: "2016-01-01"))
            #expect(r["Code"] == "InvalidVersion")
            // Actions are found by version: QueryMessage is not one of 2017-05-25's.
            r = await h.call(h.signer.v3("QueryMessage", [], date: Self.date, version: "2017-05-25"))
            #expect(r.status == 404 && r["Code"] == "InvalidAction.NotFound")

            let replay = h.signer.v3("QueryMessage", [("MessageId", "1")], date: Self.date, nonce: "n-1")
            #expect(await h.call(replay)["ResponseCode"] == "INVALID_PARAMETERS")
            r = await h.call(replay)
            #expect(r["Code"] == "SignatureNonceUsed")
            let live = try await h.store.liveNonces(nowMs: Self.nowMs)
            #expect(live.contains { $0.hash == NonceGuard.digest(accessKeyId: "testAccessKeyId", nonce: "n-1") })

            let disabled = try await h.store.setAccessKey(id: "testAccessKeyId", enabled: false)
            #expect(disabled)
            r = await h.send("QueryMessage", [("MessageId", "1")])
            #expect(r["Code"] == "InvalidAccessKeyId.Inactive")
        }
    }

    /// A key id that Swift finds equal to a real one (KELVIN SIGN for K) is refused before any lookup, and the real
    /// key keeps working: once, "no such key" was cached under the real id and locked its owner out.
    @Test(arguments: Door.allCases) func lookalikeKeyIdsLockNobodyOut(door: Door) async throws {
        try await harness(door) { h in
            var lookalike = h.signer
            lookalike.keyId = "testAccess\u{212A}eyId"
            #expect(lookalike.keyId == h.signer.keyId)
            for _ in 0..<2 {
                var r = await h.call(lookalike.v3("QueryMessage", [("MessageId", "1")], date: Self.date))
                #expect(r.status == 404 && r["Code"] == "InvalidAccessKeyId.NotFound")
                r = await h.call(lookalike.v1("QueryMessage", [("MessageId", "1")], date: Self.date))
                #expect(r["Code"] == "InvalidAccessKeyId.NotFound")
                r = await h.send("QueryMessage", [("MessageId", "1")])
                #expect(r.status == 200 && r["Code"] == nil)
            }
            let r = await h.call(h.signer.v3("QueryMessag\u{E9}", [], date: Self.date))
            #expect(r.status == 404 && r["Code"] == "InvalidAction.NotFound")
        }
    }

    @Test(arguments: Door.allCases) func tamperedQueryFailsTheSignature(door: Door) async throws {
        try await harness(door) { h in
            var r = h.signer.v3(
                "SendMessageToGlobe",
                [("To", "85291234567"), ("Message", "hello world")],
                date: Self.date
            )
            r.query = r.query.replacingOccurrences(of: "hello", with: "HELLO")
            #expect(await h.call(r)["Code"] == "SignatureDoesNotMatch")
            var b = h.signer.v3("ConversionData", [], date: Self.date, body: "ConversionRate=0.5")
            b.body = Array("ConversionRate=0.9".utf8)
            #expect(await h.call(b)["Code"] == "SignatureDoesNotMatch")
        }
    }

    @Test(arguments: Door.allCases) func legacyV1WithJSONAndXML(door: Door) async throws {
        try await harness(door) { h in
            var r = await h.call(
                h.signer.v1("SendMessageToGlobe", [("To", "6581234567"), ("Message", "hi there")], date: Self.date)
            )
            #expect(r["ResponseCode"] == "OK")
            let xml = await h.handle(h.signer.v1("QueryMessage", [("MessageId", "1")], date: Self.date, format: "XML"))
            let text = String(decoding: xml.body, as: UTF8.self)
            #expect(xml.headers.contains { $0.0 == "Content-Type" && $0.1 == "text/xml;charset=utf-8" })
            #expect(text.hasPrefix("<?xml version='1.0' encoding='UTF-8'?><QueryMessageResponse><RequestId>"))
            var bad = h.signer
            bad.secret = "nope"
            let e = await h.handle(bad.v1("QueryMessage", [("MessageId", "1")], date: Self.date, format: "XML"))
            #expect(e.status == 400)
            #expect(String(decoding: e.body, as: UTF8.self).contains("<Code>SignatureDoesNotMatch</Code>"))
            r = await h.call(
                RPCRequest(method: "GET", query: "Action=QueryMessage&Version=2018-05-01", headers: [], authority: "x")
            )
            #expect(r["Code"] == "MissingParameter" && r["Message"]?.contains("\"Signature\"") == true)
        }
    }

    @Test(arguments: Door.allCases) func policiesAndThrottling(door: Door) async throws {
        let policy =
            #"{"Version":"1","Statement":[{"Effect":"Allow","Action":"dysms:*","Resource":"*"},{"Effect":"Deny","Action":"dysms:SendMessageToGlobe","Resource":"*"}]}"#
        try await harness(door, limits: ["QueryMessage": 2], policy: policy) { h in
            let deniedCall = h.signer.v3(
                "SendMessageToGlobe",
                [("To", "85291234567"), ("Message", "x")],
                date: Self.date,
                nonce: "n-denied"
            )
            let denied = await h.call(deniedCall)
            #expect(denied.status == 403 && denied["Code"] == "Forbidden.RAM")
            // Refused after authentication: the nonce is spent, in memory and on disk, before the answer.
            let live = try await h.store.liveNonces(nowMs: Self.nowMs)
            #expect(live.contains { $0.hash == NonceGuard.digest(accessKeyId: "testAccessKeyId", nonce: "n-denied") })
            #expect(await h.call(deniedCall)["Code"] == "SignatureNonceUsed")
            #expect(try await h.store.counts().values.reduce(0, +) == 0)
            let detail = try #require(denied.json["AccessDeniedDetail"] as? [String: String])
            #expect(detail["AuthAction"] == "dysms:SendMessageToGlobe" && detail["NoPermissionType"] == "ExplicitDeny")
            _ = await h.send("QueryMessage", [("MessageId", "1")])
            _ = await h.send("QueryMessage", [("MessageId", "1")])
            let throttled = await h.send("QueryMessage", [("MessageId", "1")])
            #expect(throttled.status == 400 && throttled["Code"] == "Throttling.User")
            #expect(throttled.headers.contains { $0.0 == "x-acs-retry-after" && Int($0.1)! > 0 })
        }
    }

    /// Requests from the event loop that wait for the store run in tasks the gateway owns: each is dropped when it
    /// ends, and `shutdown` waits for those still running (a client that hung up leaves nobody else waiting).
    @Test func waitingRequestsAreOwnedAndAwaitedAtShutdown() async throws {
        try await harness(.eventLoop) { h in
            // A query is never served on the calling thread: it goes to a task.
            let answered = await withCheckedContinuation { c in
                let query = h.signer.v3("QueryMessage", [("MessageId", "1")], date: Self.date)
                h.gateway.handle(query) { c.resume(returning: $0) }
            }
            #expect(Decoded(answered)["ResponseCode"] == "INVALID_PARAMETERS")
            let deadline = ContinuousClock.now + .seconds(5)
            while h.gateway.waiting.count > 0, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(1))
            }
            #expect(h.gateway.waiting.count == 0)

            let answers = Answers()
            for n in 0..<20 {
                let query = h.signer.v3("QueryMessage", [("MessageId", "1")], date: Self.date, nonce: "n-\(n)")
                h.gateway.handle(query) { _ in answers.add() }
            }
            await h.gateway.shutdown()
            #expect(answers.count == 20)
            #expect(h.gateway.waiting.count == 0)
        }
    }

    final class Answers: Sendable {
        private let value = Mutex(0)
        func add() { value.withLock { $0 += 1 } }
        var count: Int { value.withLock { $0 } }
    }
}
