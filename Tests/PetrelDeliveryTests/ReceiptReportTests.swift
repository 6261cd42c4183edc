import Foundation
import PetrelCore
import PetrelStore
import Testing

@testable import PetrelDelivery

@Suite struct ReceiptReportTests {
    @Test func bodyIsAlibabasBatchFormatWithStringsOnly() throws {
        var m = Message(
            id: 77,
            account: "a",
            to: "6581234567",
            text: "t",
            taskId: "T\"1\\\n",
            segments: 3,
            createdAtMs: 1_700_000_000_000
        )
        m.status = .expired
        m.sentAtMs = 1_700_000_001_000
        m.doneAtMs = 1_700_000_060_000
        let body = ReceiptReport.body(
            [OutboxReceipt(id: 5, account: "a", message: m, attempts: 0, createdAtMs: 0)],
            dateOffsetSeconds: 8 * 3600
        )
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [[String: String]])
        #expect(
            parsed == [
                [
                    "To": "6581234567", "Status": "6", "MessageId": "77", "TaskId": "T\"1\\\n", "SmsSize": "3",
                    "SendDate": "Wed, 15 Nov 2023 06:13:21 +0800", "ReceiveDate": "Wed, 15 Nov 2023 06:14:20 +0800",
                    "ErrorCode": "EXPIRED", "ErrorDescription": "", "ReportId": "5",
                ]
            ]
        )
    }

    @Test func messagesOf2017AreReportedAsThatVersionsSmsReport() throws {
        var m = Message(
            id: 78,
            account: "a",
            to: "8613800138000",
            text: "t",
            taskId: "order-1",
            segments: 2,
            createdAtMs: 1_700_000_000_000,
            api: .classic,
            bizId: 70
        )
        m.status = .delivered
        m.sentAtMs = 1_700_000_001_000
        m.doneAtMs = 1_700_000_060_000
        let intl = Message(id: 79, account: "a", to: "6581234567", text: "t", createdAtMs: 1_700_000_000_000)
        let body = ReceiptReport.body(
            [
                OutboxReceipt(id: 6, account: "a", message: m, attempts: 0, createdAtMs: 0),
                OutboxReceipt(id: 7, account: "a", message: intl, attempts: 0, createdAtMs: 0),
            ],
            dateOffsetSeconds: 8 * 3600
        )
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [[String: Any]])
        #expect(parsed.count == 2)
        let classic = parsed[0]
        #expect(classic["phone_number"] as? String == "8613800138000")
        #expect(classic["send_time"] as? String == "2023-11-15 06:13:21")
        #expect(classic["report_time"] as? String == "2023-11-15 06:14:20")
        #expect(classic["success"] as? Bool == true)
        #expect(classic["err_code"] as? String == "DELIVERED")
        #expect(classic["err_msg"] as? String == "success")
        #expect(classic["sms_size"] as? String == "2")
        #expect(classic["biz_id"] as? String == "70^0")
        #expect(classic["out_id"] as? String == "order-1")
        #expect(classic["ReportId"] as? String == "6")
        #expect(classic["To"] == nil)
        // The 2018-05-01 message beside it keeps its own form.
        #expect(parsed[1]["MessageId"] as? String == "79")
        #expect(parsed[1]["phone_number"] == nil)
        #expect(String(decoding: body, as: UTF8.self).contains(#""success":true"#))
    }

    @Test func onlyCodeZeroWithHTTP200CountsAsTaken() {
        func ok(_ status: Int, _ body: String) -> Bool {
            ReceiptReport.accepted(status: status, body: Array(body.utf8))
        }
        #expect(ok(200, #"{"code":0,"msg":"The message is received."}"#))
        #expect(ok(200, #"{ "msg": "x", "code" : 0 }"#))
        #expect(ok(200, #"{"code":"0"}"#))
        #expect(!ok(200, #"{"code":1}"#))
        #expect(!ok(200, #"{"code":01}"#))
        #expect(!ok(200, #"{"code":0.5}"#))
        #expect(!ok(200, "OK"))
        #expect(!ok(204, #"{"code":0}"#))
        #expect(!ok(500, #"{"code":0}"#))
        // Issue 20: the old substring search took any "code":0 anywhere in the body.
        #expect(!ok(200, #"{"data":{"code":0},"code":500}"#))
        #expect(!ok(200, #"{"msg":"\"code\":0","code":1}"#))
        #expect(!ok(200, #"[{"code":0}]"#))
        #expect(!ok(200, #"{"data":{"code":0}}"#))
        #expect(!ok(200, #"{"code":false}"#))
        #expect(!ok(200, #"{"code":null}"#))
        #expect(!ok(200, #"{"code":"00"}"#))
        #expect(!ok(200, #"{"code":0"#))
        #expect(ok(200, #"{"data":{"code":500},"code":0}"#))
        #expect(ok(200, #"{"code":"0","msg":"x"}"#))
    }

    @Test func signatureIsHexHMACSHA256OfTheBody() {
        // RFC 4231 test case 2.
        #expect(
            ReceiptReport.signature(body: Array("what do ya want for nothing?".utf8), secret: "Jefe")
                == "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        )
    }

    @Test func endpoints() {
        #expect(
            WebhookClient.Endpoint(url: "http://h.example:8080/a/b?x=1")
                == WebhookClient.Endpoint(host: "h.example", port: 8080, path: "/a/b?x=1")
        )
        #expect(WebhookClient.Endpoint(url: "http://h") == WebhookClient.Endpoint(host: "h", port: 80, path: "/"))
        #expect(WebhookClient.Endpoint(url: "http://[::1]:9/r")?.host == "::1")
        #expect(
            WebhookClient.Endpoint(url: "https://h/r")
                == WebhookClient.Endpoint(host: "h", port: 443, path: "/r", secure: true)
        )
        #expect(WebhookClient.Endpoint(url: "ftp://h/r") == nil)
        #expect(WebhookClient.Endpoint(url: "http://u@h/r") == nil)
        #expect(WebhookClient.Endpoint(url: "http://h:0/") == nil)
        #expect(WebhookClient.Endpoint(url: "http://:80/") == nil)
    }
}
