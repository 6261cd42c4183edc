/// Business outcomes of the international SMS API (`ResponseCode`), with Alibaba's descriptions.
public struct ResponseCode: Error, Sendable, Equatable, CustomStringConvertible {
    public let code: String
    public let description: String

    public init(_ code: String, _ description: String) {
        self.code = code
        self.description = description
    }

    public static let ok = ResponseCode("OK", "The SMS Send Request was accepted")
    public static let invalidSenderID = ResponseCode("INVALID_SENDERID", "The sender ID is invalid.")
    public static let smsContentCodeIllegal = ResponseCode(
        "SMS_CONTENT_CODE_ILLEGAL",
        "The template does not exist or is not approved."
    )
    public static let smsSignNameIllegal = ResponseCode("SMS_SIGN_NAME_ILLEGAL", "The signature is invalid.")
    public static let mobileNumberIllegal = ResponseCode("MOBILE_NUMBER_ILLEGAL", "The phone number format is invalid.")
    public static let mobileCountOverLimit = ResponseCode(
        "MOBILE_COUNT_OVER_LIMIT",
        "The number of mobile phone numbers exceeds 1,000."
    )
    public static let contentMissingParameters = ResponseCode(
        "CONTENT_MISSING_PARAMETERS",
        "A template variable has no value."
    )
    public static let invalidParameters = ResponseCode("INVALID_PARAMETERS", "The input parameters are invalid.")
    /// The text is longer than Petrel accepts (its encoded units or parts). Alibaba documents
    /// `isv.PARAM_LENGTH_LIMIT` (44) for a parameter over its length limit.
    public static let paramLengthLimit = ResponseCode(
        "isv.PARAM_LENGTH_LIMIT",
        "The parameter exceeds the length limit."
    )
    public static let invalidJSONParam = ResponseCode(
        "INVALID_JSON_PARAM",
        "The parameter is empty. The JSON string failed to be parsed."
    )

    /// `limits.perNumber`: the number received its limit of messages in the last minute, hour or day.
    public static let businessLimitMinute = ResponseCode(
        "BUSINESS_LIMIT_CONTROL_MINUTE",
        "The number reached its limit of messages per minute."
    )
    public static let businessLimitHour = ResponseCode(
        "isv.BUSINESS_LIMIT_HOUR",
        "The number reached its limit of messages per hour."
    )
    public static let businessLimitDay = ResponseCode(
        "isv.BUSINESS_LIMIT_DAY",
        "The number reached its limit of messages per day."
    )
    /// `limits.countries`: the recipient's country is not allowed for the account.
    public static let notSupportedCountry = ResponseCode(
        "isv.NOT_SUPPORTED_COUNTRY",
        "The recipient's country is not supported."
    )

    /// `limits.caps`: the account (or the account in a country) reached its cap for the window.
    public static let outOfService = ResponseCode("OUT_OF_SERVICE", "SMS service suspended.")

    /// The recipient is on the account's suppression list (it replied STOP, or an operator put it there).
    public static let blackKeyControlLimit = ResponseCode(
        "isv.BLACK_KEY_CONTROL_LIMIT",
        "The recipient is on the account's suppression list."
    )

    /// The same code with a more precise description.
    public func with(_ description: String) -> ResponseCode { ResponseCode(code, description) }
}
