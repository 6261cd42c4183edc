import Foundation
import PetrelCore
import Testing

@testable import PetrelDelivery

@Suite struct SmsUpReportTests {
    /// Alibaba's SmsUp fields (sequence_id a number), every string escaped, the time at the API's offset.
    @Test func bodyIsAlibabasSmsUpArray() throws {
        let m = InboundMessage(
            id: 901,
            account: "acme",
            from: "85291234567",
            to: "85260001234",
            text: "STOP \"now\"\n你好",
            encoding: "ucs2",
            parts: 2,
            incomplete: false,
            channel: "c",
            receivedAtMs: 1_700_000_000_000
        )
        let body = SmsUpReport.body([m, m], dateOffsetSeconds: 8 * 3600)
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [[String: Any]])
        #expect(parsed.count == 2)
        let first = parsed[0]
        #expect(first["phone_number"] as? String == "85291234567" && first["content"] as? String == "STOP \"now\"\n你好")
        #expect(
            first["send_time"] as? String == "2023-11-15 06:13:20" && first["dest_code"] as? String == "85260001234"
        )
        #expect(first["sequence_id"] as? Int == 901 && first["account"] as? String == "acme")
        #expect(first["encoding"] as? String == "ucs2" && first["incomplete"] as? Bool == false)
        #expect(SmsUpReport.body([], dateOffsetSeconds: 0) == Array("[]".utf8))
    }

    /// A reply to a 2017-05-25 message sent with SmsUpExtendCode carries that code as dest_code, as Alibaba's does.
    @Test func destCodeIsTheExtendCodeWhenTheAnsweredMessageHadOne() throws {
        var m = InboundMessage(
            id: 1,
            account: "acme",
            from: "8613800138000",
            to: "85260001234",
            text: "ok",
            encoding: "gsm7",
            parts: 1,
            incomplete: false,
            channel: "c",
            receivedAtMs: 0
        )
        m.destCode = "90999"
        let body = SmsUpReport.body([m], dateOffsetSeconds: 0)
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [[String: Any]])
        #expect(parsed.first?["dest_code"] as? String == "90999")
    }
}
