/// The dysmsapi 2017-05-25 operations Petrel serves, and those of the 4.6.0 SDK it does not.
enum ClassicActions {
    static let all: [any RPCAction] = [SendSms(), SendBatchSms(), QuerySendDetails(), QuerySendStatistics()]

    /// The SDK's other operations: they answer `UnsupportedOperation` naming themselves, not an unknown action.
    static let notProvided: Set<String> = [
        "AddExtCodeSign", "AddRcsSignMenu", "AddShortUrl", "AddSmsSign", "AddSmsTemplate",
        "ChangeSignatureQualification", "CheckMobilesCardSupport", "ConversionDataIntl", "CreateCardSmsTemplate",
        "CreateDigitalSignOrder", "CreateDigitalSmsTemplate", "CreateRCSMobileCapableTask", "CreateRCSTemplate",
        "CreateSmartShortUrl", "CreateSmsAppIcpRecord", "CreateSmsAuthorizationLetter", "CreateSmsSign",
        "CreateSmsTemplate", "CreateSmsTrademark", "DeleteExtCodeSign", "DeleteShortUrl", "DeleteSmsQualification",
        "DeleteSmsSign", "DeleteSmsTemplate", "GetCardSmsDetails", "GetCardSmsLink", "GetMediaResourceId",
        "GetOSSInfoForCardTemplate", "GetOSSInfoForUploadFile", "GetQualificationOssInfo", "GetRCSSignature",
        "GetSmsOcrOssInfo", "GetSmsSign", "GetSmsTemplate", "GetSmsTemplateList", "ListTagResources",
        "ModifySmsSign", "ModifySmsTemplate", "QueryCardSmsTemplate", "QueryCardSmsTemplateReport",
        "QueryDigitalSignByName", "QueryExtCodeSign", "QueryMobilesCardSupport", "QueryPageSmartShortUrlLog",
        "QueryRCSMobileCapable", "QueryRCSMobileCapableTaskResult", "QueryRCSTemplate", "QueryRcsSignMenuByVersion",
        "QueryShortUrl", "QuerySingleSmsQualification", "QuerySmsAppIcpRecord", "QuerySmsAuthorizationLetter",
        "QuerySmsQualificationRecord", "QuerySmsSign", "QuerySmsSignList", "QuerySmsTemplate",
        "QuerySmsTemplateList", "QuerySmsTrademark", "RequiredPhoneCode", "SendBatchCardSms", "SendCardSms",
        "SendLogisticsSms", "SendRCS", "SendRCSReply", "SmsConversionIntl", "SubmitSmsQualification", "TagResources",
        "UntagResources", "UpdateExtCodeSign", "UpdateRCSSignature", "UpdateSmsQualification", "UpdateSmsSign",
        "UpdateSmsTemplate", "UpgradeToRCSSignature", "ValidPhoneCode", "VerifyLogisticsSmsMailNo",
    ]
}
