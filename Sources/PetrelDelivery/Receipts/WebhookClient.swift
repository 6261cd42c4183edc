public import AsyncHTTPClient
public import NIOCore
public import NIOHTTP1
import NIOPosix
public import NIOSSL

/// The HTTP client of receipt and inbound pushes (and of the CLI's console calls): AsyncHTTPClient, with a deadline
/// on the whole exchange and at most `maxBody` bytes of the answer read. `http://` and `https://` (host names always
/// verified; trust and client certificate from a `WebhookTLS`). Connections are kept alive and reused.
public struct WebhookClient: Sendable {
    public struct Response: Sendable {
        public var status: Int
        public var body: [UInt8]
        public var headers: [(String, String)] = []
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public struct Endpoint: Sendable, Equatable {
        public var host: String
        public var port: Int
        public var path: String
        /// `https://`.
        public var secure: Bool

        public init(host: String, port: Int, path: String, secure: Bool = false) {
            self.host = host
            self.port = port
            self.path = path
            self.secure = secure
        }

        /// Reads `http[s]://host[:port][/path][?query]`.
        public init?(url: String) {
            let secure = url.hasPrefix("https://")
            guard secure || url.hasPrefix("http://") else { return nil }
            let rest = url.dropFirst(secure ? "https://".count : "http://".count)
            let authority = rest.prefix { $0 != "/" && $0 != "?" }
            var path = String(rest.dropFirst(authority.count))
            if path.isEmpty || path.hasPrefix("?") { path = "/" + path }
            var host = Substring(authority)
            var port = secure ? 443 : 80
            if host.hasPrefix("[") {  // [IPv6]:port
                guard let close = host.firstIndex(of: "]") else { return nil }
                let after = host[host.index(after: close)...]
                host = host[host.index(after: host.startIndex)..<close]
                if after.hasPrefix(":") {
                    guard let p = Int(after.dropFirst()) else { return nil }
                    port = p
                }
            } else if let colon = host.lastIndex(of: ":") {
                guard let p = Int(host[host.index(after: colon)...]) else { return nil }
                port = p
                host = host[..<colon]
            }
            // AsyncHTTPClient takes the URL whole: nothing in the host that would change where it points.
            guard !host.isEmpty, (1...65_535).contains(port), !host.contains(where: { "@/?# ".contains($0) })
            else { return nil }
            self.host = String(host)
            self.port = port
            self.path = path
            self.secure = secure
        }

        /// The same server, another path.
        public func at(path: String) -> Endpoint { Endpoint(host: host, port: port, path: path, secure: secure) }

        var url: String {
            let host = self.host.contains(":") ? "[\(self.host)]" : self.host
            return "\(secure ? "https" : "http")://\(host):\(port)\(path)"
        }
    }

    let http: HTTPClient

    /// Every `WebhookClient` shares one process-wide connection pool unless given another.
    public init(http: HTTPClient? = nil) {
        self.http = http ?? sharedPushClient
    }

    public func post(
        _ endpoint: Endpoint,
        body: [UInt8],
        headers extra: [(String, String)],
        timeout: TimeAmount,
        tls: TLSConfiguration? = nil,
        maxBody: Int = 4096
    ) async throws -> Response {
        try await request(.POST, endpoint, body: body, headers: extra, timeout: timeout, maxBody: maxBody, tls: tls)
    }

    /// One request; `headers` may replace the JSON content type. `peer` names what should be listening, in the
    /// sentence a failed connect gives. Throws `Failure` only, its text for people.
    public func request(
        _ method: HTTPMethod,
        _ endpoint: Endpoint,
        body: [UInt8],
        headers extra: [(String, String)],
        timeout: TimeAmount,
        maxBody: Int = 64 * 1024,
        peer: String = "the receiver",
        tls: TLSConfiguration? = nil
    ) async throws -> Response {
        var request = HTTPClientRequest(url: endpoint.url)
        request.method = method
        if !extra.contains(where: { $0.0.lowercased() == "content-type" }) {
            request.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
        }
        request.headers.add(name: "User-Agent", value: "Petrel-Receipts/1")
        for (name, value) in extra { request.headers.add(name: name, value: value) }
        request.body = .bytes(body)
        request.tlsConfiguration = tls
        let deadline = NIODeadline.now() + timeout
        do {
            let response = try await http.execute(request, deadline: deadline)
            // The deadline covers the answer's head; the body is read within what is left of it, and at most
            // `maxBody` bytes of it (leaving the loop drops the rest and the connection).
            let answer = try await withReadDeadline(deadline) {
                var answer: [UInt8] = []
                for try await chunk in response.body {
                    answer += chunk.readableBytesView.prefix(maxBody - answer.count)
                    if answer.count >= maxBody { break }
                }
                return answer
            }
            return Response(
                status: Int(response.status.code),
                body: answer,
                headers: response.headers.map { ($0.name, $0.value) }
            )
        } catch {
            // Past the deadline the reason is time, whatever error the cancelled connect or read left behind (a
            // connect still pending in the pool when the deadline strikes fails with the pool's own error).
            let late = NIODeadline.now() >= deadline
            throw Failure(
                description: Self.explain(error, endpoint: endpoint, peer: peer, timeout: timeout, late: late)
            )
        }
    }

    private func withReadDeadline(
        _ deadline: NIODeadline,
        _ read: @escaping @Sendable () async throws -> [UInt8]
    ) async throws -> [UInt8] {
        try await withThrowingTaskGroup(of: [UInt8]?.self) { group in
            group.addTask { try await read() }
            group.addTask {
                let left = (deadline - .now()).nanoseconds
                if left > 0 { try await Task.sleep(nanoseconds: UInt64(left)) }
                throw HTTPClientError.deadlineExceeded
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let body = first else { throw HTTPClientError.deadlineExceeded }
            return body
        }
    }

    /// What went wrong, in words.
    static func explain(
        _ error: any Error,
        endpoint: Endpoint,
        peer: String,
        timeout: TimeAmount,
        late: Bool = false
    ) -> String {
        if let text = TLSErrorText.describe(error, host: endpoint.host, peer: peer) { return text }
        if late { return "no answer within \(timeout.nanoseconds / 1_000_000) ms" }
        if let e = error as? HTTPClientError {
            switch e {
            case .deadlineExceeded, .readTimeout, .writeTimeout, .connectTimeout:
                return "no answer within \(timeout.nanoseconds / 1_000_000) ms"
            case .remoteConnectionClosed:
                return "\(peer) closed the connection without an answer"
            default:
                return "the exchange with \(peer) failed: \(e.shortDescription)"
            }
        }
        if error is CancellationError { return "the push was cancelled (shutting down)" }
        if error is HTTPParserError { return "\(peer) answered with something that is not HTTP/1.1 (\(error))" }
        return NetworkErrorText.connecting(error, host: endpoint.host, port: endpoint.port, peer: peer)
    }
}

/// One pool for the process; never shut down (a global lives as long as the process).
private let sharedPushClient: HTTPClient = {
    var configuration = HTTPClient.Configuration()
    configuration.redirectConfiguration = .disallow
    configuration.decompression = .disabled
    configuration.httpVersion = .http1Only
    // A failed connect fails the push at once (it is retried by the outbox's own backoff), with its reason.
    configuration.connectionPool.retryConnectionEstablishment = false
    configuration.connectionPool.idleTimeout = .seconds(30)
    configuration.timeout.connect = .seconds(10)
    return HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
}()
