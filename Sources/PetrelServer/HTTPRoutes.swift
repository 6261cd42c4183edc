import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import PetrelAPI
import PetrelStore

/// The HTTP surface: the RPC door at `/`, `/healthz`, and the sandbox retrospection endpoints.
struct HTTPRoutes {
    let gateway: Gateway
    let store: any MessageStore
    let configuration: ServerConfiguration
    let logger: Logger

    func register(on router: Router<BasicRequestContext>) {
        router.get("/") { request, _ in try await self.rpc(request) }
        router.post("/") { request, _ in try await self.rpc(request) }
        router.get("/healthz") { _, _ in Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "ok\n"))) }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: ServerMetrics.exposition())))
        }
        if configuration.sandboxRetrospection {
            router.get("/sandbox/messages") { request, _ in try await self.sandboxMessages(request) }
            router.delete("/sandbox/messages") { _, _ in
                let n = try await self.store.clearSandbox()
                return Self.json(#"{"Deleted":\#(n)}"#)
            }
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
            method: request.method.rawValue, path: request.uri.path, query: request.uri.query ?? "",
            headers: request.headers.map { (name: $0.name.rawName, value: $0.value) },
            authority: request.head.authority ?? "", body: Array(buffer: body))
        return Self.response(await handle(rpc))
    }

    /// The gateway's answer, counted and logged (both HTTP paths to the RPC door come here).
    func handle(_ rpc: RPCRequest) async -> RPCResponse {
        let answer = await gateway.handle(rpc)
        record(answer)
        return answer
    }

    /// `handle` for the RPC door on the event loop (see `Gateway.handle(_:answer:)`).
    func handle(_ rpc: RPCRequest, answer: @escaping @Sendable (RPCResponse) -> Void) {
        gateway.handle(rpc) { [self] response in
            record(response)
            answer(response)
        }
    }

    private func record(_ answer: RPCResponse) {
        ServerMetrics.request(action: answer.action, code: answer.code)
        // Every answer at debug; server-side failures always, so an operator can find a client's RequestId.
        logger.log(
            level: answer.status >= 500 ? .error : .debug, "rpc",
            metadata: ["RequestId": "\(answer.requestId)", "action": "\(answer.action)", "code": "\(answer.code)", "status": "\(answer.status)"])
    }

    func bodyTooLarge() -> RPCResponse {
        Gateway.errorResponse(
            .bodyTooLarge(limit: configuration.maxBodyBytes), requestId: RequestID.make(), hostId: configuration.hostId,
            format: .json, action: "")
    }

    static func response(_ r: RPCResponse) -> Response {
        var headers = HTTPFields()
        for (name, value) in r.headers {
            if let n = HTTPField.Name(name) { headers.append(HTTPField(name: n, value: value)) }
        }
        return Response(status: .init(code: r.status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: r.body)))
    }

    static func json(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    func sandboxMessages(_ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        let to = query["to"].map { String($0).trimmingCharacters(in: CharacterSet(charactersIn: "+ ")) }
        let limit = query["limit"].flatMap { Int($0) }.map { min(max($0, 1), 10_000) } ?? 1000
        let entries = try await store.sandboxMessages(to: to, limit: limit)
        var out: [UInt8] = Array(#"{"Messages":["#.utf8)
        for (i, e) in entries.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            let fields: [(String, ResponseValue)] = [
                ("MessageId", .string(String(e.messageId))), ("Account", .string(e.account)), ("To", .string(e.to)),
                ("From", .string(e.from)), ("Message", .string(e.text)), ("Segments", .string(String(e.segments))),
                ("ReceivedAt", .string(String(e.receivedAtMs))), ("Outcome", .string(e.outcome)),
            ]
            out += ResponseEncoder.encode(fields, root: "", format: .json)
        }
        out += Array("]}".utf8)
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: out)))
    }
}
