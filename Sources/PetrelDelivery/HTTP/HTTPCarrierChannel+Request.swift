import AsyncHTTPClient
import Logging
import NIOCore
import NIOHTTP1
import PetrelCore
import PetrelStore
import Synchronization

extension HTTPCarrierChannel {
    struct TimedOut: Error {}

    /// Why a request got no answer, in words.
    struct Unanswered: Error {
        let reason: String
    }

    /// One message's request, its answer, and what both mean.
    func submit(_ m: Message) async -> SubmitOutcome {
        if let expiry = m.expiresAtMs, expiry <= clock() { return .expired }
        let request = Self.request(for: m, configuration, nowMs: clock())
        let result = await perform(request)
        let now = clock()
        let verdict: HTTPVerdict
        var retryAfterSeconds: Int?
        var unreachable = false
        switch result {
        case .success(let answer):
            verdict = configuration.answer.verdict(answer)
            retryAfterSeconds = answer.retryAfterSeconds
            DeliveryMetrics.httpAnswered(channel: id, status: answer.status)
        case .failure(let failure):
            verdict = .retry(reason: failure.reason)
            unreachable = true
            DeliveryMetrics.httpAnswered(channel: id, status: 0)
        }
        return state.withLock { s -> SubmitOutcome in
            switch verdict {
            case .sent(let providerId):
                s.failures = 0
                s.unreachable = 0
                s.health.accepted += 1
                let parts = providerId.isEmpty ? [] : [PartRecord(part: 1, total: 1, carrierId: providerId)]
                let record = SentRecord(
                    id: m.id,
                    channel: id,
                    carrierMessageId: providerId,
                    sentAtMs: now,
                    parts: parts
                )
                return .sent(record, nil)
            case .retry(let reason):
                s.failures += 1
                s.unreachable = unreachable ? s.unreachable + 1 : 0
                let delay = configuration.retryDelay(failures: s.failures, retryAfterSeconds: retryAfterSeconds)
                if unreachable {
                    s.health.noResponse += 1
                    if s.unreachable >= Self.unreachableLimit { s.downUntilMs = now + delay }
                } else {
                    s.health.retried += 1
                }
                s.health.lastError = reason
                return .retry(afterMs: delay, accepted: [], reason: reason)
            case .reroute(let code, let description):
                s.unreachable = 0
                s.health.rerouted += 1
                s.health.lastError = description
                return .failed(code: code, description: description, reroute: true, accepted: [])
            case .failed(let code, let description):
                s.unreachable = 0
                s.health.refused += 1
                s.health.lastError = description
                return .failed(code: code, description: description, reroute: false, accepted: [])
            }
        }
    }

    static func request(for m: Message, _ c: HTTPChannelConfiguration, nowMs: Int64) -> HTTPClientRequest {
        if let key = c.alibaba { return alibabaRequest(for: m, endpoint: c.url.source, key: key, nowMs: nowMs) }
        var request = HTTPClientRequest(url: c.url.render(m, escaping: .url))
        request.method = HTTPMethod(rawValue: c.method)
        for (name, value) in c.headers { request.headers.add(name: name, value: value.render(m, escaping: .header)) }
        switch c.body {
        case .none:
            break
        case .json(let template):
            if !request.headers.contains(name: "Content-Type") {
                request.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
            }
            request.body = .bytes(ByteBuffer(string: template.render(m, escaping: .json)))
        case .form(let fields):
            if !request.headers.contains(name: "Content-Type") {
                request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            }
            let text = fields.map { "\($0.name)=\($0.value.render(m, escaping: .form))" }.joined(separator: "&")
            request.body = .bytes(ByteBuffer(string: text))
        }
        return request
    }

    /// The answer within `timeoutMs` (body included, at most `maxAnswerBytes` of it read), or why there is none.
    func perform(_ request: HTTPClientRequest) async -> Result<HTTPAnswer, Unanswered> {
        let timeoutMs = configuration.timeoutMs
        do {
            let answer = try await withThrowingTaskGroup(of: HTTPAnswer?.self) { group in
                group.addTask { try await self.exchange(request) }
                group.addTask {
                    try await Task.sleep(for: .milliseconds(timeoutMs))
                    return nil
                }
                defer { group.cancelAll() }
                guard case .some(.some(let answer)) = try await group.next() else { throw TimedOut() }
                return answer
            }
            return .success(answer)
        } catch is TimedOut {
            return .failure(Unanswered(reason: "no answer from the provider within \(Self.seconds(timeoutMs))"))
        } catch {
            logger.debug("HTTP request failed", metadata: ["error": "\(error)"])
            return .failure(Unanswered(reason: Self.describe(error, request: request, timeoutMs: timeoutMs)))
        }
    }

    private func exchange(_ request: HTTPClientRequest) async throws -> HTTPAnswer {
        let deadline = NIODeadline.now() + .milliseconds(configuration.timeoutMs)
        let response = try await client.execute(request, deadline: deadline, logger: logger)
        let limit = configuration.maxAnswerBytes
        var body: [UInt8] = []
        for try await chunk in response.body {
            body += chunk.readableBytesView.prefix(limit - body.count)
            // The rest is not read: the connection is closed rather than drained.
            if body.count >= limit { break }
        }
        let retryAfter = response.headers.first(name: "Retry-After").flatMap { Int($0) }.map { min(max(0, $0), 86_400) }
        return HTTPAnswer(status: Int(response.status.code), retryAfterSeconds: retryAfter, body: body)
    }

    static func seconds(_ ms: Int64) -> String {
        ms % 1000 == 0 ? "\(ms / 1000) s" : "\(ms) ms"
    }

    /// Why a request got no answer, in a sentence (the library's text goes to debug logs).
    static func describe(_ error: any Error, request: HTTPClientRequest, timeoutMs: Int64) -> String {
        let target = Self.target(request.url)
        if let e = error as? HTTPClientError {
            switch e {
            case .connectTimeout: return "no connection to the provider at \(target) in time"
            case .readTimeout, .deadlineExceeded: return "no answer from the provider within \(seconds(timeoutMs))"
            case .remoteConnectionClosed: return "the provider at \(target) closed the connection without an answer"
            case .invalidURL, .emptyHost, .emptyScheme: return "the URL \(target) is not usable"
            default: return "the request to \(target) failed (\(e))"
            }
        }
        let (host, port) = hostAndPort(request.url)
        return NetworkErrorText.connecting(error, host: host, port: port, peer: "the provider")
    }

    static func hostAndPort(_ url: String) -> (String, Int) {
        let https = url.lowercased().hasPrefix("https://")
        let rest = url.drop { $0 != "/" }.drop { $0 == "/" }
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }.split(separator: "@").last ?? ""
        if let colon = authority.lastIndex(of: ":"), let port = Int(authority[authority.index(after: colon)...]) {
            return (String(authority[..<colon]), port)
        }
        return (String(authority), https ? 443 : 80)
    }

    static func target(_ url: String) -> String {
        let (host, port) = hostAndPort(url)
        return "\(host):\(port)"
    }
}
