import PetrelCore
import PetrelStore
import Testing

@testable import PetrelAPI

/// dysmsapi 2017-05-25's conversion operations: 2018-05-01's records, 2017's answers.
extension GatewayTests {
    @Test(arguments: Door.allCases) func conversionsIntlAnswerInClassicCodes(door: Door) async throws {
        try await harness(door) { h in
            try await addTemplate(h)
            let sent = await classic(h, "SendSms", [("PhoneNumbers", "13800138000")] + Self.sms)
            let biz = try #require(sent["BizId"])
            let ok = await classic(h, "SmsConversionIntl", [("MessageId", biz), ("Delivered", "true")])
            #expect(ok["Code"] == "OK" && ok["Message"] == "OK" && ok["ResponseCode"] == nil)
            let bad = await classic(h, "SmsConversionIntl", [("MessageId", "abc"), ("Delivered", "true")])
            #expect(bad["Code"] == "isv.INVALID_PARAMETERS")
            #expect(bad["Message"] == "No message has the MessageId abc.")
            let maybe = await classic(h, "SmsConversionIntl", [("MessageId", biz), ("Delivered", "maybe")])
            #expect(maybe["Code"] == "isv.INVALID_PARAMETERS")
            #expect(await classic(h, "ConversionDataIntl", [("ConversionRate", "0.5")])["Code"] == "OK")
            #expect(
                await classic(h, "ConversionDataIntl", [("ConversionRate", "x")])["Code"] == "isv.INVALID_PARAMETERS"
            )
        }
    }
}
