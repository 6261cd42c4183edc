import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import PetrelAPI
import PetrelCore
import PetrelDelivery
import PetrelSMPP
import PetrelStore

/// `GET` / `DELETE /sandbox/messages`: what the sandbox carrier received. By default a caller names an access key
/// (HTTP Basic `AccessKeyId:AccessKeySecret`, or a console session cookie) and sees or deletes only that key's
/// account's messages, if its policy allows QueryMessage; `sandbox.retrospection: open` serves every account's
/// to anyone (a laptop only: these are OTP codes), `false` serves nothing.
struct SandboxRoutes: Sendable {
    let store: any SandboxInbox
    let auth: KeyAuth
    let mode: ServerConfiguration.Retrospection
    /// Where `POST /sandbox/inbound` delivers.
    var inbound: InboundProcessor? = nil

    func register(on router: Router<PetrelRequestContext>) {
        guard mode != .off else { return }
        if let inbound {
            router.post("/sandbox/inbound") { request, context in
                // A signed-in console's cookie goes with another site's POST too: that site could opt the account's
                // phones out (STOP) or in.
                guard KeyAuth.sameOrigin(request) else {
                    return Self.error("Forbidden.CrossSite", "This request came from another site.", .forbidden)
                }
                switch await caller(request, address: context.clientAddress) {
                case .refused(let r): return r
                case .account(let account):
                    let body = try await request.body.collect(upTo: 64 * 1024)
                    return await SandboxInbound.deliver(body, account: account, to: inbound)
                }
            }
        }
        router.get("/sandbox/messages") { request, context in
            switch await caller(request, address: context.clientAddress) {
            case .refused(let r): return r
            case .account(let account): return try await list(request, account: account)
            }
        }
        router.delete("/sandbox/messages") { request, context in
            guard KeyAuth.sameOrigin(request) else {
                return Self.error("Forbidden.CrossSite", "This request came from another site.", .forbidden)
            }
            switch await caller(request, address: context.clientAddress) {
            case .refused(let r): return r
            case .account(let account):
                let n = try await store.clearSandbox(account: account)
                return Self.json(#"{"Deleted":\#(n)}"#)
            }
        }
    }

    enum Caller {
        /// nil: every account's (open mode).
        case account(String?)
        case refused(Response)
    }

    func caller(_ request: Request, address: String) async -> Caller {
        if mode == .open { return .account(nil) }
        if let s = await auth.session(request) {
            guard s.may(ConsoleAction.query) else { return .refused(Self.forbidden(s.keyId)) }
            return .account(s.account)
        }
        guard let (id, secret) = KeyAuth.basic(request) else {
            return .refused(
                Self.unauthorized("Send an access key as HTTP Basic credentials (AccessKeyId:AccessKeySecret).")
            )
        }
        switch await auth.verify(keyId: id, secret: secret, address: address) {
        case .wait(let seconds):
            var r = Self.error("Throttling.SignIn", Console.tooMany(seconds), .tooManyRequests)
            r.headers[.retryAfter] = "\(seconds)"
            return .refused(r)
        case .wrong:
            return .refused(Self.unauthorized("Unknown or disabled access key, or wrong secret."))
        case .key(let key):
            guard Policy.allows(key.policy, action: ConsoleAction.query, account: key.account) else {
                return .refused(Self.forbidden(key.id))
            }
            return .account(key.account)
        }
    }

    static func unauthorized(_ message: String) -> Response {
        var r = error("InvalidAccessKeyId", message, .unauthorized)
        r.headers[.wwwAuthenticate] = #"Basic realm="Petrel sandbox", charset="UTF-8""#
        return r
    }

    static func forbidden(_ keyId: String) -> Response {
        error(
            "Forbidden.RAM",
            "Access key \(keyId) may not read the sandbox: its policy does not allow \(ConsoleAction.query).",
            .forbidden
        )
    }

    static func error(_ code: String, _ message: String, _ status: HTTPResponse.Status) -> Response {
        json(Console.jsonObject([("Code", code), ("Message", message)]), status: status)
    }

    static func json(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: text))
        )
    }

    func list(_ request: Request, account: String?) async throws -> Response {
        let query = request.uri.queryParameters
        let to = query["to"].map { String($0).trimmingCharacters(in: CharacterSet(charactersIn: "+ ")) }
        let limit = query["limit"].flatMap { Int($0) }.map { min(max($0, 1), 10_000) } ?? 1000
        let entries = try await store.sandboxMessages(account: account, to: to, limit: limit)
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
        return Response(
            status: .ok,
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: out))
        )
    }
}
