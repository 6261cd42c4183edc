public import PetrelCore

/// A gateway-level error: HTTP 4xx/5xx with the `{"RequestId","HostId","Code","Message","Recommend"}` body the
/// SDKs turn into exceptions. Business outcomes are not errors; they travel in `ResponseCode` with HTTP 200.
public struct APIError: Error, Sendable, Equatable {
    public var status: Int
    public var code: String
    public var message: String
    /// Extra body fields (AccessDeniedDetail).
    public var extra: [(String, ResponseValue)] = []
    /// `x-acs-retry-after` in milliseconds, which makes the SDK raise its ThrottlingException.
    public var retryAfterMs: Int?

    public init(status: Int, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public static func == (a: APIError, b: APIError) -> Bool {
        a.status == b.status && a.code == b.code && a.message == b.message && a.retryAfterMs == b.retryAfterMs
    }

    static let signatureMismatchPrefix =
        "Specified signature is not matched with our calculation. server string to sign is:"

    public static func signatureDoesNotMatch(stringToSign: String) -> APIError {
        APIError(status: 400, code: "SignatureDoesNotMatch", message: signatureMismatchPrefix + stringToSign)
    }
    public static func incompleteSignature(_ why: String) -> APIError {
        APIError(
            status: 400,
            code: "IncompleteSignature",
            message: "The request signature does not conform to Aliyun standards. \(why)"
        )
    }
    public static let accessKeyNotFound = APIError(
        status: 404,
        code: "InvalidAccessKeyId.NotFound",
        message: "Specified access key is not found."
    )
    public static let accessKeyInactive = APIError(
        status: 400,
        code: "InvalidAccessKeyId.Inactive",
        message: "Specified access key is disabled."
    )
    public static let timestampExpired = APIError(
        status: 400,
        code: "InvalidTimeStamp.Expired",
        message: "Specified time stamp or date value is expired (more than 15 minutes from the server's time)."
    )
    public static let timestampFormat = APIError(
        status: 400,
        code: "InvalidTimeStamp.Format",
        message: "Specified time stamp or date value is not well formatted (expected yyyy-MM-ddTHH:mm:ssZ in UTC)."
    )
    public static let nonceUsed = APIError(
        status: 400,
        code: "SignatureNonceUsed",
        message: "Specified signature nonce was used already."
    )

    public static func missingParameter(_ name: String) -> APIError {
        APIError(status: 400, code: "Missing\(name)", message: "\(name) is mandatory for this action.")
    }
    public static func missingCommonParameter(_ name: String) -> APIError {
        APIError(
            status: 400,
            code: "MissingParameter",
            message: "The input parameter \"\(name)\" that is mandatory for processing this request is not supplied."
        )
    }
    /// An operation of the SDK that Petrel does not serve (rather than a name no SDK has).
    public static func notProvided(_ action: String, version: APIVersion) -> APIError {
        APIError(
            status: 400,
            code: "UnsupportedOperation",
            message: "\(action) is an operation of dysmsapi \(version.name) that Petrel does not provide."
        )
    }

    public static func unknownAction(_ action: String) -> APIError {
        APIError(
            status: 404,
            code: "InvalidAction.NotFound",
            message: "Specified api is not found, please check your url and method. (Action: \(action))"
        )
    }
    public static func unsupportedVersion(_ version: String) -> APIError {
        APIError(
            status: 400,
            code: "InvalidVersion",
            message: "Specified parameter Version is not valid: \(version). Petrel supports 2018-05-01 and 2017-05-25."
        )
    }
    public static func throttled(retryAfterMs: Int) -> APIError {
        var e = APIError(status: 400, code: "Throttling.User", message: "Request was denied due to user flow control.")
        e.retryAfterMs = max(retryAfterMs, 1)
        return e
    }
    public static func forbidden(action: String, explicit: Bool, account: String, keyName: String) -> APIError {
        var e = APIError(
            status: 403,
            code: "Forbidden.RAM",
            message: "User not authorized to operate on the specified resource, or this API doesn't support RAM."
        )
        e.extra = [
            (
                "AccessDeniedDetail",
                .object([
                    ("AuthAction", .string("dysms:\(action)")),
                    ("AuthPrincipalType", .string("AccessKey")),
                    ("AuthPrincipalDisplayName", .string(keyName)),
                    ("AuthPrincipalOwnerId", .string(account)),
                    ("PolicyType", .string("AccountLevelIdentityBasedPolicy")),
                    ("NoPermissionType", .string(explicit ? "ExplicitDeny" : "ImplicitDeny")),
                    ("EncodedDiagnosticMessage", .string("")),
                ])
            )
        ]
        return e
    }
    public static let badRequest = APIError(
        status: 400,
        code: "InvalidParameter",
        message: "The request parameters could not be decoded."
    )
    public static func tooManyParameters(_ count: Int, limit: Int) -> APIError {
        APIError(
            status: 400,
            code: "InvalidParameter",
            message: "The request carries \(count) parameters; at most \(limit) are accepted."
        )
    }
    public static func bodyTooLarge(limit: Int) -> APIError {
        APIError(status: 413, code: "RequestBodyTooLarge", message: "The request body exceeds \(limit) bytes.")
    }
    // swift-format-ignore: DontRepeatTypeInStaticProperties
    public static let internalError = APIError(
        status: 500,
        code: "InternalError",
        message: "The request processing has failed due to some unknown error."
    )
    public static let serviceUnavailable = APIError(
        status: 503,
        code: "ServiceUnavailable",
        message: "The request has failed due to a temporary failure of the server."
    )
}
