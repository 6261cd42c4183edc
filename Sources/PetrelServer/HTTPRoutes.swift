import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import PetrelAPI
import PetrelCore
import PetrelStore

/// The HTTP surface: the RPC door at `/`, `/healthz` and `/metrics` (the sandbox's are in SandboxRoutes).
struct HTTPRoutes {
    let gateway: Gateway
    let configuration: ServerConfiguration
    let logger: Logger

    func register(on router: Router<PetrelRequestContext>) {
        router.get("/") { request, _ in try await self.rpc(request) }
        router.post("/") { request, _ in try await self.rpc(request) }
        router.get("/healthz") { _, _ in Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "ok\n"))) }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: ServerMetrics.exposition()))
            )
        }
    }

    func rpc(_ request: Request) async throws -> Response {
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: configuration.maxBodyBytes)
        } catch {
            return Self.response(bodyTooLarge())
        }
        let rpc = RPCRequest(
            method: request.method.rawValue,
            path: request.uri.path,
            query: request.uri.query ?? "",
            headers: request.headers.map { (name: $0.name.rawName, value: $0.value) },
            authority: request.head.authority ?? "",
            body: Array(buffer: body)
        )
        return Self.response(await handle(rpc))
    }

    /// The gateway's answer, counted and logged (both HTTP paths to the RPC door come here).
    func handle(_ rpc: RPCRequest) async -> RPCResponse {
        if configuration.consoleEnabled, let redirect = Self.consoleRedirect(rpc) { return redirect }
        let answer = await gateway.handle(rpc)
        record(answer)
        return answer
    }

    /// `handle` for the RPC door on the event loop (see `Gateway.handle(_:answer:)`).
    func handle(_ rpc: RPCRequest, answer: @escaping @Sendable (RPCResponse) -> Void) {
        if configuration.consoleEnabled, let redirect = Self.consoleRedirect(rpc) { return answer(redirect) }
        gateway.handle(rpc) { [self] response in
            record(response)
            answer(response)
        }
    }

    /// A browser opening the server's address (`GET /` asking for HTML, without an `Action`) goes to the console.
    /// An SDK's request costs one comparison here: its method is POST, or it does not ask for text/html.
    static func consoleRedirect(_ rpc: RPCRequest) -> RPCResponse? {
        guard rpc.method == "GET", let accept = rpc.header("accept"),
            accept.contains("text/html"), rpc.header("x-acs-action") == nil,
            !rpc.query.split(separator: "&").contains(where: { $0.hasPrefix("Action=") })
        else { return nil }
        return RPCResponse(
            status: 303,
            headers: [("Location", "/console"), ("Content-Type", "text/plain; charset=utf-8")],
            body: Array("See /console\n".utf8),
            action: "",
            code: "",
            requestId: ""
        )
    }

    private func record(_ answer: RPCResponse) {
        ServerMetrics.request(action: answer.action, code: answer.code)
        // Every answer at debug; server-side failures always, so an operator can find a client's RequestId.
        logger.log(
            level: answer.status >= 500 ? .error : .debug,
            "rpc",
            metadata: [
                "RequestId": "\(answer.requestId)", "action": "\(answer.action)", "code": "\(answer.code)",
                "status": "\(answer.status)",
            ]
        )
    }

    func bodyTooLarge() -> RPCResponse {
        Gateway.errorResponse(
            .bodyTooLarge(limit: configuration.maxBodyBytes),
            requestId: RequestID.make(),
            hostId: configuration.hostId,
            format: .json,
            action: ""
        )
    }

    static func response(_ r: RPCResponse) -> Response {
        var headers = HTTPFields()
        for (name, value) in r.headers {
            if let n = HTTPField.Name(name) { headers.append(HTTPField(name: n, value: value)) }
        }
        return Response(
            status: .init(code: r.status),
            headers: headers,
            body: .init(byteBuffer: ByteBuffer(bytes: r.body))
        )
    }

    static func json(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: text))
        )
    }
}
