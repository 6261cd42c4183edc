public import PetrelCore
public import PetrelStore

public struct RPCResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]
    /// What happened, for logs and metrics: the action (if known) and the code answered.
    public var action: String
    public var code: String
    public var requestId: String

    public init(
        status: Int,
        headers: [(String, String)],
        body: [UInt8],
        action: String,
        code: String,
        requestId: String
    ) {
        self.status = status
        self.headers = headers
        self.body = body
        self.action = action
        self.code = code
        self.requestId = requestId
    }
}

/// The RPC door: decodes parameters, authenticates, authorises, throttles, runs the action, commits its writes
/// together with the nonce, and encodes the answer.
public final class Gateway: Sendable {
    public static let actions: [any RPCAction] =
        [
            BatchSendMessageToGlobe(), SendMessageToGlobe(), QueryMessage(), SendMessageWithTemplate(), SmsConversion(),
            ConversionData(),
        ] + ClassicActions.all

    let env: APIEnvironment
    let authenticator: Authenticator
    let throttle: Throttle
    let actions: [String: any RPCAction]
    /// The actions that may run on the calling thread, looked up without a dynamic cast per request: each gives
    /// its result, or nil when it must wait for the store (`CachedRPCAction`).
    let immediate: [String: @Sendable (ActionCall) throws -> ActionResult?]
    let hostId: String
    let clock: @Sendable () -> Int64
    /// Query and form parameters a request may carry (the SDKs send about 15).
    let maxParameters: Int
    /// Requests from the event loop that wait for the store (see `handle(_:answer:)`).
    let waiting = RequestTasks()

    public init(
        env: APIEnvironment,
        nonces: NonceGuard,
        throttle: Throttle,
        hostId: String = "",
        timestampWindowSeconds: Int64 = 900,
        maxParameters: Int = 200,
        clock: @escaping @Sendable () -> Int64
    ) {
        self.maxParameters = maxParameters
        self.env = env
        var byName: [String: any RPCAction] = [:]
        for a in Self.actions { byName[ActionKey.of(a)] = a }
        self.actions = byName
        self.immediate = byName.compactMapValues { action in
            if let now = action as? any ImmediateRPCAction { return { try now.runNow($0) } }
            if let cached = action as? any CachedRPCAction { return { try cached.runIfCached($0) } }
            return nil
        }
        let store = env.store
        self.authenticator = Authenticator(
            actions: Set(byName.keys),
            nonces: nonces,
            windowSeconds: timestampWindowSeconds,
            keys: { try await store.accessKey(id: $0) }
        )
        self.throttle = throttle
        self.hostId = hostId
        self.clock = clock
    }

    /// One request's facts, as far as they are known, for its answer.
    struct Exchange {
        let requestId = RequestID.make()
        /// The Host header, for an error's HostId when none is configured.
        let authority: String
        var format = ResponseFormat.json
        var action = ""
        /// `action`'s `ActionKey` (its version and name).
        var key = ""
        let nowMs: Int64
    }

    public func handle(_ request: RPCRequest) async -> RPCResponse {
        var exchange = begin(request)
        do {
            let (params, queryPairs) = try decode(request, &exchange)
            let caller = try await authenticator.authenticate(
                request,
                params,
                queryPairs: queryPairs,
                nowMs: exchange.nowMs
            )
            return await serve(caller, params, exchange)
        } catch {
            return failure(error, exchange)
        }
    }

    /// `handle` without a task where it can: a send whose key is in memory is checked, run and handed to the store
    /// on the calling thread (the connection's event loop), and `answer` is called when the store has it on disk.
    /// A task per request, and its hops between threads, cost about a tenth of a single send. Anything that
    /// must wait for the store first (an uncached key, a query) goes the task's way, with the same answers, in a
    /// task that `waiting` owns until it ends (`shutdown` cancels and awaits those left).
    public func handle(_ request: RPCRequest, answer: @escaping @Sendable (RPCResponse) -> Void) {
        var exchange = begin(request)
        let caller: Caller
        let params: Parameters
        do {
            let (p, queryPairs) = try decode(request, &exchange)
            guard immediate[exchange.key] != nil,
                let c = try authenticator.authenticateNow(
                    request,
                    p,
                    queryPairs: queryPairs,
                    nowMs: exchange.nowMs,
                    cached: env.store.cachedAccessKey
                )
            else {
                waiting.run { answer(await self.handle(request)) }
                return
            }
            caller = c
            params = p
        } catch {
            return answer(failure(error, exchange))
        }
        guard let runNow = immediate[caller.actionKey] else {
            waiting.run { [exchange] in answer(await self.serve(caller, params, exchange)) }
            return
        }
        exchange.action = caller.action
        let outcome: Result<ActionResult, any Error>
        do {
            try authorize(caller, nowMs: exchange.nowMs)
            let call = call(caller, params, exchange)
            guard let result = try runNow(call) else {
                // Authorized (and counted by the throttle) once: the task runs the action itself.
                waiting.run { [exchange] in
                    let outcome: Result<ActionResult, any Error>
                    do {
                        guard let action = self.actions[caller.actionKey] else {
                            throw APIError.unknownAction(caller.action)
                        }
                        outcome = .success(try await action.run(call))
                    } catch {
                        outcome = .failure(error)
                    }
                    self.finish(outcome, caller, exchange, answer: answer)
                }
                return
            }
            outcome = .success(result)
        } catch {
            outcome = .failure(error)
        }
        finish(outcome, caller, exchange, answer: answer)
    }

    /// After the HTTP server has stopped, before the store closes: cancels and awaits the requests still waiting
    /// for the store (those of clients that hung up; the door answered every live connection before closing it).
    public func shutdown() async {
        await waiting.cancelAndWait()
    }

    /// Runs `work` in a task the gateway owns (cancelled and awaited by `shutdown`, before the store closes).
    public func run(_ work: @escaping @Sendable () async -> Void) {
        waiting.run(work)
    }

    func begin(_ request: RPCRequest) -> Exchange {
        Exchange(authority: request.authority, nowMs: clock())
    }

    /// Query and form parameters; sets the answer's format and the action claimed (for counting refusals by
    /// action: only known names, so a stranger cannot mint metric labels).
    func decode(
        _ request: RPCRequest,
        _ exchange: inout Exchange
    ) throws(APIError) -> (Parameters, queryPairs: [(String, String)]) {
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
        if let f = params["Format"], asciiLowercased(f) == "xml" { exchange.format = .xml }
        let claimed = request.header("x-acs-action") ?? params["Action"] ?? ""
        let version = APIVersion(name: request.header("x-acs-version") ?? params["Version"] ?? "") ?? .intl
        let key = ActionKey.make(version, claimed)
        if actions[key] != nil {
            exchange.action = claimed
            exchange.key = key
        }
        return (params, queryPairs)
    }

    /// An authenticated call, the waiting way: run, then `finish`.
    func serve(_ caller: Caller, _ params: Parameters, _ exchange: Exchange) async -> RPCResponse {
        var exchange = exchange
        exchange.action = caller.action
        let outcome: Result<ActionResult, any Error>
        do {
            outcome = .success(try await perform(caller, params, call(caller, params, exchange)))
        } catch {
            outcome = .failure(error)
        }
        return await withCheckedContinuation { c in finish(outcome, caller, exchange) { c.resume(returning: $0) } }
    }

    /// After the action, both ways: its writes committed with the nonce, then the answer. The nonce is spent even
    /// when the call fails after authentication.
    func finish(
        _ outcome: Result<ActionResult, any Error>,
        _ caller: Caller,
        _ exchange: Exchange,
        answer: @escaping @Sendable (RPCResponse) -> Void
    ) {
        let spendNonce = { @Sendable [self] (error: any Error) in
            env.store.commit(WriteBatch(nonce: caller.nonce)) { _ in answer(self.failure(error, exchange)) }
        }
        switch outcome {
        case .failure(let error): spendNonce(error)
        case .success(let result) where result.limited != nil:
            finishLimited(result, caller, exchange, answer: answer, spendNonce: spendNonce)
        case .success(let result):
            env.store.commit(writes(result, caller)) { [self] committed in
                switch committed {
                case .success: answer(success(result, exchange))
                case .failure(StoreError.nonceUsed):
                    // Another node saw this nonce first (the in-memory guard only knows this node's): the database's
                    // unique nonce refused the whole transaction, messages included.
                    answer(failure(APIError.nonceUsed, exchange))
                case .failure(let error): spendNonce(error)
                }
            }
        }
    }

    /// A send under `limits.perNumber`: the store checks and counts as it commits, and the answer is rewritten
    /// from its refusals (only the messages it kept are announced to the dispatcher).
    func finishLimited(
        _ result: ActionResult,
        _ caller: Caller,
        _ exchange: Exchange,
        answer: @escaping @Sendable (RPCResponse) -> Void,
        spendNonce: @escaping @Sendable (any Error) -> Void
    ) {
        guard let limited = result.limited else { return }
        env.store.commit(writes(result, caller), limits: limited.limits) { [self] committed in
            switch committed {
            case .success(let refusals):
                var answered = result
                answered.fields = limited.answer(refusals)
                // (Copied only when some were refused: a copy of a message retains its ten strings.)
                if refusals.contains(where: { $0 != nil }) {
                    answered.writes.messages = zip(result.writes.messages, refusals).filter { $0.1 == nil }.map(\.0)
                }
                answer(success(answered, exchange))
            case .failure(StoreError.nonceUsed): answer(failure(APIError.nonceUsed, exchange))
            case .failure(let error): spendNonce(error)
            }
        }
    }

    func call(_ caller: Caller, _ params: Parameters, _ exchange: Exchange) -> ActionCall {
        ActionCall(
            params: params,
            account: caller.key.account,
            requestId: exchange.requestId,
            nowMs: exchange.nowMs,
            env: env
        )
    }

    func writes(_ result: ActionResult, _ caller: Caller) -> WriteBatch {
        var batch = result.writes
        batch.nonce = caller.nonce
        return batch
    }

    func success(_ result: ActionResult, _ exchange: Exchange) -> RPCResponse {
        if !result.writes.messages.isEmpty { env.onAccepted(result.writes.messages.count) }
        var fields: [(String, ResponseValue)] = []
        fields.reserveCapacity(result.fields.count + 1)
        fields.append(("RequestId", .string(exchange.requestId)))
        fields.append(contentsOf: result.fields)
        var code = "OK"
        // 2018-05-01 answers in ResponseCode, 2017-05-25 in Code.
        if case .string(let c)? = result.fields.first(where: { $0.0 == "ResponseCode" || $0.0 == "Code" })?.1 {
            code = c
        }
        return RPCResponse(
            status: 200,
            headers: [("Content-Type", exchange.format.contentType)],
            body: ResponseEncoder.encode(fields, root: exchange.action + "Response", format: exchange.format),
            action: exchange.action,
            code: code,
            requestId: exchange.requestId
        )
    }

    func failure(_ error: any Error, _ exchange: Exchange) -> RPCResponse {
        let host = hostId.isEmpty ? String(exchange.authority.split(separator: ":").first ?? "") : hostId
        return Self.errorResponse(
            error as? APIError ?? .internalError,
            requestId: exchange.requestId,
            hostId: host,
            format: exchange.format,
            action: exchange.action
        )
    }

    /// Runs an action for a caller inside Petrel that already proved who it is (the console, campaigns): the same
    /// validation and messages as a signed call. A key's policy, when given, is honoured as for a signed call.
    /// Nothing is written: the caller passes `writes` (perhaps with more in it) to `accept`.
    public func prepare(
        action name: String,
        account: String,
        policy: String? = nil,
        parameters: [(String, String)],
        nowMs: Int64,
        optOutExempt: Bool = false
    ) async throws -> ActionResult {
        guard let handler = actions[name] else { throw APIError.unknownAction(name) }
        if let policy {
            let decision =
                (try? Policy.parse(policy))?.evaluate(action: "dysms:\(name)", account: account) ?? .implicitDeny
            if decision != .allow {
                throw APIError.forbidden(
                    action: name,
                    explicit: decision == .explicitDeny,
                    account: account,
                    keyName: ""
                )
            }
        }
        let call = ActionCall(
            params: Parameters(parameters),
            account: account,
            requestId: RequestID.make(),
            nowMs: nowMs,
            env: env,
            optOutExempt: optOutExempt
        )
        return try await handler.run(call)
    }

    /// Longest accepted text, in characters.
    public var maxTextLength: Int { env.maxTextLength }

    /// `api.approval` and the per-account bounds on signs and templates.
    public var signs: SignSettings { env.signs }

    /// The account's `limits:` (nil when none).
    public func sendLimits(account: String) -> SendLimits? { env.limits(account) }

    /// The `limits.pumpingGuard` halts this node refuses by (refreshed from the store every second).
    public var pumpingHalts: PumpingHaltBoard { env.halts }

    /// The suppression lists this node refuses by (refreshed from the store every half second).
    public var optOut: OptOutBoard { env.optOut }

    /// Commits what `prepare` produced and wakes the dispatcher.
    public func accept(_ writes: WriteBatch) async throws {
        try await env.store.commit(writes)
        if !writes.messages.isEmpty { env.onAccepted(writes.messages.count) }
    }

    /// Commits a send `prepare` produced, under the account's `limits.perNumber` when it has them; returns the
    /// answer's fields as committed (the refusal when a limit refused the message).
    public func accept(_ result: ActionResult) async throws -> [(String, ResponseValue)] {
        guard let limited = result.limited else {
            try await accept(result.writes)
            return result.fields
        }
        let refusals = try await env.store.commit(result.writes, limits: limited.limits)
        let kept = refusals.count { $0 == nil }
        if kept > 0 { env.onAccepted(kept) }
        return limited.answer(refusals)
    }

    func perform(_ caller: Caller, _ params: Parameters, _ call: ActionCall) async throws -> ActionResult {
        try authorize(caller, nowMs: call.nowMs)
        guard let handler = actions[caller.actionKey] else { throw APIError.unknownAction(caller.action) }
        return try await handler.run(call)
    }

    /// The key's policy, then its throttle.
    func authorize(_ caller: Caller, nowMs: Int64) throws(APIError) {
        if let text = caller.key.policy {
            let authAction = "dysms:\(caller.action)"
            let decision =
                (try? Policy.parse(text))?.evaluate(action: authAction, account: caller.key.account) ?? .implicitDeny
            if decision != .allow {
                throw APIError.forbidden(
                    action: caller.action,
                    explicit: decision == .explicitDeny,
                    account: caller.key.account,
                    keyName: caller.key.name
                )
            }
        }
        if let wait = throttle.acquire(key: caller.key.id, action: caller.action, nowMs: nowMs) {
            throw APIError.throttled(retryAfterMs: wait)
        }
    }

    public static func errorResponse(
        _ e: APIError,
        requestId: String,
        hostId: String,
        format: ResponseFormat,
        action: String
    ) -> RPCResponse {
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
            status: e.status,
            headers: headers,
            body: ResponseEncoder.encode(fields, root: "Error", format: format),
            action: action,
            code: e.code,
            requestId: requestId
        )
    }
}
