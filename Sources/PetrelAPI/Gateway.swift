import PetrelCore
public import PetrelStore

public struct RPCResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]
    /// What happened, for logs and metrics: the action (if known) and the code answered.
    public var action: String
    public var code: String
    public var requestId: String
}

/// The RPC door: decodes parameters, authenticates, authorises, throttles, runs the action, commits its writes
/// together with the nonce, and encodes the answer.
public final class Gateway: Sendable {
    public static let actions: [any RPCAction] = [
        BatchSendMessageToGlobe(), SendMessageToGlobe(), QueryMessage(), SendMessageWithTemplate(), SmsConversion(),
        ConversionData(),
    ]

    let env: APIEnvironment
    let authenticator: Authenticator
    let throttle: Throttle
    let actions: [String: any RPCAction]
    let hostId: String
    let clock: @Sendable () -> Int64
    /// Query and form parameters a request may carry (the SDKs send about 15).
    let maxParameters: Int

    public init(
        env: APIEnvironment, nonces: NonceGuard, throttle: Throttle, hostId: String = "",
        timestampWindowSeconds: Int64 = 900, maxParameters: Int = 200, clock: @escaping @Sendable () -> Int64
    ) {
        self.maxParameters = maxParameters
        self.env = env
        var byName: [String: any RPCAction] = [:]
        for a in Self.actions { byName[type(of: a).name] = a }
        self.actions = byName
        let store = env.store
        self.authenticator = Authenticator(
            actions: Set(byName.keys), nonces: nonces, windowSeconds: timestampWindowSeconds,
            keys: { try await store.accessKey(id: $0) })
        self.throttle = throttle
        self.hostId = hostId
        self.clock = clock
    }

    public func handle(_ request: RPCRequest) async -> RPCResponse {
        let requestId = RequestID.make()
        let host = hostId.isEmpty ? String(request.authority.split(separator: ":").first ?? "") : hostId
        var format = ResponseFormat.json
        var action = ""
        do {
            let queryPairs: [(String, String)]
            var pairs: [(String, String)]
            do {
                queryPairs = try FormEncoding.decode(request.query)
                pairs = queryPairs
                if request.isFormBody, let body = String(validating: request.body, as: UTF8.self) {
                    pairs += try FormEncoding.decode(body)
                }
            } catch {
                throw APIError.badRequest
            }
            guard pairs.count <= maxParameters else { throw APIError.tooManyParameters(pairs.count, limit: maxParameters) }
            let params = Parameters(pairs)
            if params["Format"]?.lowercased() == "xml" { format = .xml }

            // Named before authentication so refused calls are counted by action; only known names, so a
            // stranger cannot mint metric labels.
            let claimed = request.header("x-acs-action") ?? params["Action"] ?? ""
            if actions[claimed] != nil { action = claimed }
            let now = clock()
            let caller = try await authenticator.authenticate(request, params, queryPairs: queryPairs, nowMs: now)
            action = caller.action
            do {
                let result = try await perform(caller, params, requestId: requestId, nowMs: now)
                try await env.store.commit(WriteBatch(
                    nonce: caller.nonce, messages: result.writes.messages, conversions: result.writes.conversions,
                    conversionData: result.writes.conversionData))
                if !result.writes.messages.isEmpty { env.onAccepted(result.writes.messages.count) }
                let fields = [("RequestId", ResponseValue.string(requestId))] + result.fields
                var code = "OK"
                if case .string(let c)? = result.fields.first(where: { $0.0 == "ResponseCode" })?.1 { code = c }
                return RPCResponse(
                    status: 200, headers: [("Content-Type", format.contentType)],
                    body: ResponseEncoder.encode(fields, root: action + "Response", format: format), action: action,
                    code: code, requestId: requestId)
            } catch StoreError.nonceUsed {
                // Another node saw this nonce first (the in-memory guard only knows this node's): the database's
                // unique nonce refused the whole transaction, messages included.
                throw APIError.nonceUsed
            } catch {
                // The nonce is spent even when the call fails after authentication.
                try? await env.store.commit(WriteBatch(nonce: caller.nonce))
                throw error
            }
        } catch let error as APIError {
            return Self.errorResponse(error, requestId: requestId, hostId: host, format: format, action: action)
        } catch {
            return Self.errorResponse(.internalError, requestId: requestId, hostId: host, format: format, action: action)
        }
    }

    /// Runs an action for a caller inside Petrel that already proved who it is (the console, campaigns): the same
    /// validation and messages as a signed call. A key's policy, when given, is honoured as for a signed call.
    /// Nothing is written: the caller passes `writes` (perhaps with more in it) to `accept`.
    public func prepare(
        action name: String, account: String, policy: String? = nil, parameters: [(String, String)], nowMs: Int64
    ) async throws -> ActionResult {
        guard let handler = actions[name] else { throw APIError.unknownAction(name) }
        if let policy {
            let decision = (try? Policy.parse(policy))?.evaluate(action: "dysms:\(name)", account: account) ?? .implicitDeny
            if decision != .allow {
                throw APIError.forbidden(action: name, explicit: decision == .explicitDeny, account: account, keyName: "")
            }
        }
        let call = ActionCall(params: Parameters(parameters), account: account, requestId: RequestID.make(), nowMs: nowMs, env: env)
        return try await handler.run(call)
    }

    /// Longest accepted text, in characters.
    public var maxTextLength: Int { env.maxTextLength }

    /// Commits what `prepare` produced and wakes the dispatcher.
    public func accept(_ writes: WriteBatch) async throws {
        try await env.store.commit(writes)
        if !writes.messages.isEmpty { env.onAccepted(writes.messages.count) }
    }

    func perform(_ caller: Caller, _ params: Parameters, requestId: String, nowMs: Int64) async throws -> ActionResult {
        let authAction = "dysms:\(caller.action)"
        if let text = caller.key.policy {
            let decision = (try? Policy.parse(text))?.evaluate(action: authAction, account: caller.key.account) ?? .implicitDeny
            if decision != .allow {
                throw APIError.forbidden(
                    action: caller.action, explicit: decision == .explicitDeny, account: caller.key.account,
                    keyName: caller.key.name)
            }
        }
        if let wait = throttle.acquire(key: caller.key.id, action: caller.action, nowMs: nowMs) {
            throw APIError.throttled(retryAfterMs: wait)
        }
        guard let handler = actions[caller.action] else { throw APIError.unknownAction(caller.action) }
        let call = ActionCall(params: params, account: caller.key.account, requestId: requestId, nowMs: nowMs, env: env)
        return try await handler.run(call)
    }

    public static func errorResponse(_ e: APIError, requestId: String, hostId: String, format: ResponseFormat, action: String) -> RPCResponse {
        var fields: [(String, ResponseValue)] = [
            ("RequestId", .string(requestId)),
            ("HostId", .string(hostId)),
            ("Code", .string(e.code)),
            ("Message", .string(e.message)),
            ("Recommend", .string("https://error-center.aliyun.com/status/search?Keyword=\(e.code)&source=Petrel")),
        ]
        fields += e.extra
        var headers = [("Content-Type", format.contentType)]
        if let wait = e.retryAfterMs { headers.append(("x-acs-retry-after", String(wait))) }
        return RPCResponse(
            status: e.status, headers: headers, body: ResponseEncoder.encode(fields, root: "Error", format: format),
            action: action, code: e.code, requestId: requestId)
    }
}
