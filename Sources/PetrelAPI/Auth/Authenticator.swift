public import PetrelCore
public import PetrelStore

/// Who is calling, once the signature checked out.
public struct Caller: Sendable {
    public var key: AccessKeyRecord
    public var action: String
    public var nonce: NonceRecord
    /// The API version the request named (`x-acs-version` or `Version`).
    public var version: APIVersion = .intl

    /// Where the gateway finds its action (`ActionKey`).
    var actionKey: String { ActionKey.make(version, action) }
}

/// Checks a request's action, version, timestamp, access key, signature (V3 or V1) and nonce, in that order.
public struct Authenticator: Sendable {
    /// Headers a V3 signature must cover, whatever else the SDK signs.
    static let requiredSignedHeaders = [
        "host", "x-acs-action", "x-acs-content-sha256", "x-acs-date", "x-acs-signature-nonce", "x-acs-version",
    ]

    let keys: @Sendable (String) async throws -> AccessKeyRecord?
    let nonces: NonceGuard
    /// `ActionKey`s: the action names of each version.
    let actions: Set<String>
    let windowSeconds: Int64

    public init(
        actions: Set<String>,
        nonces: NonceGuard,
        windowSeconds: Int64 = 900,
        keys: @escaping @Sendable (String) async throws -> AccessKeyRecord?
    ) {
        self.actions = actions
        self.nonces = nonces
        self.windowSeconds = windowSeconds
        self.keys = keys
    }

    enum Style {
        case v3(SignatureV3.Authorization)
        case v1
    }

    /// What a request claims before its key is looked up: checked for form, not yet for truth.
    struct Claims {
        var style: Style
        var action: String
        var version: APIVersion
        var keyId: String
        var nonce: String
        var timestampSeconds: Int64
    }

    /// `queryPairs` are the decoded query parameters alone (V3 signs those; a form body is in the payload hash).
    public func authenticate(
        _ request: RPCRequest,
        _ params: Parameters,
        queryPairs: [(String, String)],
        nowMs: Int64
    ) async throws(APIError) -> Caller {
        let claims = try check(request, params, nowMs: nowMs)
        let key: AccessKeyRecord?
        do {
            key = try await keys(claims.keyId)
        } catch {
            throw APIError.serviceUnavailable
        }
        return try verify(claims, key: key, request, params, queryPairs: queryPairs, nowMs: nowMs)
    }

    /// `authenticate` without waiting: nil when the key is not at hand (`cached` answers nil), and then nothing was
    /// done (the nonce is not spent), so the caller can go the waiting way.
    public func authenticateNow(
        _ request: RPCRequest,
        _ params: Parameters,
        queryPairs: [(String, String)],
        nowMs: Int64,
        cached: (String) -> AccessKeyRecord??
    ) throws(APIError) -> Caller? {
        let claims = try check(request, params, nowMs: nowMs)
        guard let key = cached(claims.keyId) else { return nil }
        return try verify(claims, key: key, request, params, queryPairs: queryPairs, nowMs: nowMs)
    }

    /// Action, version, the signature's parts, timestamp: everything that needs no key.
    func check(_ request: RPCRequest, _ params: Parameters, nowMs: Int64) throws(APIError) -> Claims {
        let style: Style
        if let header = request.header("authorization") {
            guard let auth = SignatureV3.parseAuthorization(header) else {
                throw APIError.incompleteSignature(
                    "The Authorization header is not ACS3-HMAC-SHA256 Credential=…,SignedHeaders=…,Signature=…."
                )
            }
            style = .v3(auth)
        } else {
            style = .v1
        }

        let action: String
        let version: APIVersion
        switch style {
        case .v3:
            guard let a = request.header("x-acs-action"), !a.isEmpty else {
                throw APIError.missingCommonParameter("Action")
            }
            guard let v = request.header("x-acs-version"), !v.isEmpty else {
                throw APIError.missingCommonParameter("Version")
            }
            guard let known = APIVersion(name: v) else { throw APIError.unsupportedVersion(v) }
            action = a
            version = known
        case .v1:
            guard let a = params.optional("Action") else { throw APIError.missingCommonParameter("Action") }
            guard let v = params.optional("Version") else { throw APIError.missingCommonParameter("Version") }
            guard let known = APIVersion(name: v) else { throw APIError.unsupportedVersion(v) }
            action = a
            version = known
        }
        // Action names and key ids are ASCII: anything else is refused before a table or a cache is asked (Swift
        // compares strings by canonical equivalence, the store by bytes).
        guard isPlainIdentifier(action), actions.contains(ActionKey.make(version, action)) else {
            if version == .classic, ClassicActions.notProvided.contains(action) {
                throw APIError.notProvided(action, version: version)
            }
            throw APIError.unknownAction(action)
        }

        let timestamp: String
        let nonce: String
        let keyId: String
        switch style {
        case .v3(let auth):
            guard let date = request.header("x-acs-date") else {
                throw APIError.incompleteSignature("x-acs-date is missing.")
            }
            guard let n = request.header("x-acs-signature-nonce"), !n.isEmpty else {
                throw APIError.incompleteSignature("x-acs-signature-nonce is missing.")
            }
            timestamp = date
            nonce = n
            keyId = auth.credential
        case .v1:
            guard params.optional("Signature") != nil else { throw APIError.missingCommonParameter("Signature") }
            guard let t = params.optional("Timestamp") else { throw APIError.missingCommonParameter("Timestamp") }
            guard let n = params.optional("SignatureNonce") else {
                throw APIError.missingCommonParameter("SignatureNonce")
            }
            guard let k = params.optional("AccessKeyId") else { throw APIError.missingCommonParameter("AccessKeyId") }
            timestamp = t
            nonce = n
            keyId = k
        }
        guard isPlainIdentifier(keyId) else { throw APIError.accessKeyNotFound }
        guard let seconds = AlibabaDate.parseISO8601(timestamp) else { throw APIError.timestampFormat }
        guard abs(seconds * 1000 - nowMs) <= windowSeconds * 1000 else { throw APIError.timestampExpired }
        return Claims(
            style: style,
            action: action,
            version: version,
            keyId: keyId,
            nonce: nonce,
            timestampSeconds: seconds
        )
    }

    /// The key, the signature, then the nonce (claimed last, so a forged request cannot spend a real one).
    func verify(
        _ claims: Claims,
        key: AccessKeyRecord?,
        _ request: RPCRequest,
        _ params: Parameters,
        queryPairs: [(String, String)],
        nowMs: Int64
    ) throws(APIError) -> Caller {
        guard let key else { throw APIError.accessKeyNotFound }
        guard key.enabled else { throw APIError.accessKeyInactive }

        switch claims.style {
        case .v3(let auth): try verifyV3(request, queryPairs, auth, secret: key.secret)
        case .v1: try verifyV1(request, params, secret: key.secret)
        }

        let digest = NonceGuard.digest(accessKeyId: key.id, nonce: claims.nonce)
        let expires = (claims.timestampSeconds + windowSeconds) * 1000
        guard nonces.claim(digest, expiresAtMs: expires, nowMs: nowMs) else { throw APIError.nonceUsed }
        return Caller(
            key: key,
            action: claims.action,
            nonce: NonceRecord(hash: digest, expiresAtMs: expires),
            version: claims.version
        )
    }

    func verifyV3(
        _ request: RPCRequest,
        _ queryPairs: [(String, String)],
        _ auth: SignatureV3.Authorization,
        secret: String
    ) throws(APIError) {
        guard Self.requiredSignedHeaders.allSatisfy(auth.signedHeaders.contains) else {
            let missing = Self.requiredSignedHeaders.filter { !auth.signedHeaders.contains($0) }
            throw APIError.incompleteSignature("SignedHeaders must include \(missing.joined(separator: ";")).")
        }
        let payloadHash = SignatureV3.payloadHash(request.body)
        if let declared = request.header("x-acs-content-sha256"), asciiLowercased(declared) != payloadHash {
            throw APIError(
                status: 400,
                code: "SignatureDoesNotMatch",
                message: "x-acs-content-sha256 does not match the SHA-256 of the request body (\(payloadHash))."
            )
        }
        let canonical = SignatureV3.canonicalBytes(
            request,
            queryPairs: queryPairs,
            signedHeaders: auth.signedHeaders,
            payloadHash: payloadHash
        )
        let stringToSign = SignatureV3.stringToSignBytes(canonicalBytes: canonical)
        let expected = SignatureV3.signature(stringToSignBytes: stringToSign, secret: secret)
        guard constantTimeEquals(expected, asciiLowercased(auth.signature)) else {
            throw APIError.signatureDoesNotMatch(stringToSign: String(decoding: stringToSign, as: UTF8.self))
        }
    }

    func verifyV1(_ request: RPCRequest, _ params: Parameters, secret: String) throws(APIError) {
        if let method = params.optional("SignatureMethod"), method != "HMAC-SHA1" {
            throw APIError.incompleteSignature("SignatureMethod must be HMAC-SHA1.")
        }
        if let version = params.optional("SignatureVersion"), version != "1.0" {
            throw APIError.incompleteSignature("SignatureVersion must be 1.0.")
        }
        let stringToSign = SignatureV1.stringToSign(method: request.method, parameters: params.pairs)
        let expected = SignatureV1.signature(stringToSign: stringToSign, secret: secret)
        guard constantTimeEquals(expected, params["Signature"] ?? "") else {
            throw APIError.signatureDoesNotMatch(stringToSign: stringToSign)
        }
    }
}
