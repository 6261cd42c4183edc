import PetrelCore
import Testing

/// dysmsapi 2017-05-25's pieces: its codes, its reading of numbers and dates, and the wire values it needs.
@Suite struct ClassicTests {
    @Test func sharedRefusalsMapTo2017CodesKeepingTheirReason() {
        let minute = ResponseCode.businessLimitMinute.with("too many")
        #expect(ClassicCode.from(minute) == ClassicCode.businessLimitControl.with("too many"))
        #expect(ClassicCode.from(ResponseCode.businessLimitDay).code == "isv.BUSINESS_LIMIT_CONTROL")
        #expect(ClassicCode.from(ResponseCode.outOfService).code == "isv.OUT_OF_SERVICE")
        #expect(ClassicCode.from(ResponseCode.notSupportedCountry).code == "isv.NOT_SUPPORTED_COUNTRY")
        #expect(ClassicCode.from(ResponseCode.mobileNumberIllegal).code == "isv.MOBILE_NUMBER_ILLEGAL")
        #expect(ClassicCode.from(ResponseCode.smsContentCodeIllegal).code == "isv.SMS_TEMPLATE_ILLEGAL")
        #expect(ClassicCode.from(ResponseCode.paramLengthLimit).code == "isv.PARAM_LENGTH_LIMIT")
        #expect(ClassicCode.from(ResponseCode("SOMETHING_NEW", "x")).code == "isv.INVALID_PARAMETERS")
    }

    @Test func elevenDigitsFromOneAreMainlandChina() throws {
        #expect(try PhoneNumber.parseClassic("13800138000").get().digits == "8613800138000")
        #expect(try PhoneNumber.parseClassic("8613800138000").get().digits == "8613800138000")
        #expect(try PhoneNumber.parseClassic("+8613800138000").get().digits == "8613800138000")
        #expect(try PhoneNumber.parseClassic("85291234567").get().digits == "85291234567")
        // With a + or 00 it is read with its country code: +1 310 … is a US number.
        #expect(try PhoneNumber.parseClassic("+13105550123").get().callingCode == 1)
        #expect((try? PhoneNumber.parseClassic("1380013800").get()) == nil)
        #expect((try? PhoneNumber.parseClassic("").get()) == nil)
        #expect((try? PhoneNumber.parseClassic("1380013800x").get()) == nil)
    }

    @Test func sendDatesAreRealCalendarDays() {
        #expect(AlibabaDate.parseDay("19700101") == 0)
        #expect(AlibabaDate.parseDay("20250601").map(AlibabaDate.day) == "20250601")
        #expect(AlibabaDate.parseDay("20240229") != nil)
        #expect(AlibabaDate.parseDay("20250229") == nil)
        #expect(AlibabaDate.parseDay("20250231") == nil)
        #expect(AlibabaDate.parseDay("2025061") == nil)
        #expect(AlibabaDate.parseDay("2025-06-01") == nil)
        #expect(AlibabaDate.parseDay("99999999") == nil)
        #expect(AlibabaDate.plain(ms: 1_748_779_200_000, offsetSeconds: 8 * 3600) == "2025-06-01 20:00:00")
    }

    @Test func numbersAndArraysEncodeAsAlibabasLists() {
        let fields: [(String, ResponseValue)] = [
            ("TotalCount", .string("2")),
            (
                "DTOs",
                .object([
                    ("DTO", .array([.object([("SendStatus", .number(3))]), .object([("SendStatus", .number(1))])]))
                ])
            ),
        ]
        let json = String(decoding: ResponseEncoder.encode(fields, root: "R", format: .json), as: UTF8.self)
        #expect(json == #"{"TotalCount":"2","DTOs":{"DTO":[{"SendStatus":3},{"SendStatus":1}]}}"#)
        let xml = String(decoding: ResponseEncoder.encode(fields, root: "R", format: .xml), as: UTF8.self)
        #expect(
            xml.hasSuffix(
                "<R><TotalCount>2</TotalCount><DTOs><DTO><SendStatus>3</SendStatus></DTO><DTO><SendStatus>1</SendStatus></DTO></DTOs></R>"
            )
        )
        let empty = String(
            decoding: ResponseEncoder.encode([("L", .array([]))], root: "R", format: .json),
            as: UTF8.self
        )
        #expect(empty == #"{"L":[]}"#)
    }
}
