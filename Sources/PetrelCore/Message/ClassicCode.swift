/// Business outcomes of dysmsapi 2017-05-25 (`Code` of SendSms and its siblings), with Alibaba's names.
///
/// Source: Alibaba Cloud, "API错误码" (API error codes) of Short Message Service,
/// https://help.aliyun.com/document_detail/101346.html (the page the 4.6.0 SDK's docstrings link to); the
/// whole list Petrel answers is in docs/api-2017.md. The 2017 names carry the `isv.` prefix where the
/// international API's (`ResponseCode`) often do not.
public enum ClassicCode {
    public static let ok = ResponseCode("OK", "OK")
    public static let signatureIllegal = ResponseCode("isv.SMS_SIGNATURE_ILLEGAL", "The signature is invalid.")
    public static let templateIllegal = ResponseCode(
        "isv.SMS_TEMPLATE_ILLEGAL",
        "The template does not exist or is not approved."
    )
    public static let templateMissingParameters = ResponseCode(
        "isv.TEMPLATE_MISSING_PARAMETERS",
        "A template variable has no value."
    )
    public static let mobileNumberIllegal = ResponseCode("isv.MOBILE_NUMBER_ILLEGAL", "The phone number is invalid.")
    public static let mobileCountOverLimit = ResponseCode(
        "isv.MOBILE_COUNT_OVER_LIMIT",
        "The number of phone numbers exceeds the limit."
    )
    public static let invalidParameters = ResponseCode("isv.INVALID_PARAMETERS", "The parameters are invalid.")
    public static let invalidJSONParam = ResponseCode(
        "isv.INVALID_JSON_PARAM",
        "The JSON parameter is invalid; only string values are accepted."
    )
    public static let paramLengthLimit = ResponseCode(
        "isv.PARAM_LENGTH_LIMIT",
        "The parameter exceeds its length limit."
    )
    /// `limits.perNumber` (Alibaba's per-number flow control: so many per minute, hour and day).
    public static let businessLimitControl = ResponseCode("isv.BUSINESS_LIMIT_CONTROL", "Flow control was triggered.")
    /// `limits.caps` and `limits.pumpingGuard` (Alibaba: the service is suspended).
    public static let outOfService = ResponseCode("isv.OUT_OF_SERVICE", "The service is suspended.")
    /// `limits.countries`: 2017-05-25 has no code of its own for it; Alibaba's international list names it so.
    public static let notSupportedCountry = ResponseCode(
        "isv.NOT_SUPPORTED_COUNTRY",
        "The recipient's country is not supported."
    )
    /// The recipient is on the account's suppression list: Alibaba's blacklist control, with the 2017 prefix.
    public static let blackKeyControlLimit = ResponseCode(
        "isv.BLACK_KEY_CONTROL_LIMIT",
        "The recipient is on the account's suppression list."
    )
    /// A query's date outside what may be asked (SendDate older than 30 days, StartDate after EndDate …).
    public static let queryDateIllegal = ResponseCode("isv.QUERY_DATE_ILLEGAL", "The date is invalid.")

    /// The 2017-05-25 code for an outcome the shared paths (limits, number checks) give in 2018-05-01's words,
    /// keeping the sentence that says why.
    public static func from(_ intl: ResponseCode) -> ResponseCode {
        let code: ResponseCode
        switch intl.code {
        case ResponseCode.ok.code: return ok
        case ResponseCode.businessLimitMinute.code, ResponseCode.businessLimitHour.code,
            ResponseCode.businessLimitDay.code:
            code = businessLimitControl
        case ResponseCode.outOfService.code: code = outOfService
        case ResponseCode.notSupportedCountry.code: code = notSupportedCountry
        case ResponseCode.blackKeyControlLimit.code: code = blackKeyControlLimit
        case ResponseCode.mobileNumberIllegal.code: code = mobileNumberIllegal
        case ResponseCode.mobileCountOverLimit.code: code = mobileCountOverLimit
        case ResponseCode.smsContentCodeIllegal.code: code = templateIllegal
        case ResponseCode.smsSignNameIllegal.code, ResponseCode.invalidSenderID.code: code = signatureIllegal
        case ResponseCode.contentMissingParameters.code: code = templateMissingParameters
        case ResponseCode.invalidJSONParam.code: code = invalidJSONParam
        case ResponseCode.paramLengthLimit.code: code = paramLengthLimit
        default: code = invalidParameters
        }
        return code.with(intl.description)
    }
}

extension PhoneNumber {
    /// A recipient as dysmsapi 2017-05-25 reads it: eleven digits that begin with 1 and carry no `+` or `00` are a
    /// mainland China mobile number without its country code (Alibaba: "with or without a country code");
    /// anything else is `[country code][number]`, as in the 2018 API.
    public static func parseClassic(_ raw: some StringProtocol) -> Result<PhoneNumber, PhoneNumberError> {
        let utf8 = raw.utf8
        if utf8.count == 11, utf8.first == UInt8(ascii: "1"),
            utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        {
            return parse("86" + raw)
        }
        return parse(raw)
    }
}
