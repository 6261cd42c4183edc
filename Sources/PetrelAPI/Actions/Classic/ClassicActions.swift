/// The dysmsapi 2017-05-25 operations Petrel serves, and those of the 4.6.0 SDK it does not.
enum ClassicActions {
    static let all: [any RPCAction] = [
        SendSms(), SendBatchSms(), QuerySendDetails(), QuerySendStatistics(), AddSmsSign(), CreateSmsSign(),
        QuerySmsSign(), GetSmsSign(), QuerySmsSignList(), ModifySmsSign(), UpdateSmsSign(), DeleteSmsSign(),
        AddSmsTemplate(), CreateSmsTemplate(), QuerySmsTemplate(), GetSmsTemplate(), QuerySmsTemplateList(),
        GetSmsTemplateList(), ModifySmsTemplate(), UpdateSmsTemplate(), DeleteSmsTemplate(), SmsConversionIntl(),
        ConversionDataIntl(),
    ]

    /// The SDK's other operations: they answer `UnsupportedOperation` naming themselves, not an unknown action.
    static let notProvided: Set<String> = [
        "AddExtCodeSign", "AddRcsSignMenu", "AddShortUrl", "ChangeSignatureQualification", "CheckMobilesCardSupport",
        "CreateCardSmsTemplate", "CreateDigitalSignOrder", "CreateDigitalSmsTemplate",
        "CreateRCSMobileCapableTask", "CreateRCSTemplate", "CreateSmartShortUrl", "CreateSmsAppIcpRecord",
        "CreateSmsAuthorizationLetter", "CreateSmsTrademark", "DeleteExtCodeSign", "DeleteShortUrl",
        "DeleteSmsQualification", "GetCardSmsDetails", "GetCardSmsLink", "GetMediaResourceId",
        "GetOSSInfoForCardTemplate", "GetOSSInfoForUploadFile", "GetQualificationOssInfo", "GetRCSSignature",
        "GetSmsOcrOssInfo", "ListTagResources", "QueryCardSmsTemplate", "QueryCardSmsTemplateReport",
        "QueryDigitalSignByName", "QueryExtCodeSign", "QueryMobilesCardSupport", "QueryPageSmartShortUrlLog",
        "QueryRCSMobileCapable", "QueryRCSMobileCapableTaskResult", "QueryRCSTemplate", "QueryRcsSignMenuByVersion",
        "QueryShortUrl", "QuerySingleSmsQualification", "QuerySmsAppIcpRecord", "QuerySmsAuthorizationLetter",
        "QuerySmsQualificationRecord", "QuerySmsTrademark", "RequiredPhoneCode", "SendBatchCardSms", "SendCardSms",
        "SendLogisticsSms", "SendRCS", "SendRCSReply", "SubmitSmsQualification", "TagResources",
        "UntagResources", "UpdateExtCodeSign", "UpdateRCSSignature", "UpdateSmsQualification", "UpgradeToRCSSignature",
        "ValidPhoneCode", "VerifyLogisticsSmsMailNo",
    ]
}
