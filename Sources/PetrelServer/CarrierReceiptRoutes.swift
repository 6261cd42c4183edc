import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import PetrelCore
import PetrelDelivery
import PetrelStore
import Synchronization

/// `POST /carriers/{channel}/receipts`: an HTTP channel's provider reports delivery (see `HTTPReceiptRules`).
/// Receipts are matched by the provider's id as SMPP receipts are (`ReceiptProcessor`): an id no message has is
/// kept a while as an orphan, then dropped. The answer is Alibaba's acknowledgement, `{"code":0,"msg":"OK"}`,
/// once every receipt of the body is stored; a store failure answers 503 so the provider sends it again.
struct CarrierReceiptRoutes: Sendable {
    let channels: [String: HTTPReceiptRules]
    let receipts: ReceiptProcessor
    let logger: Logger
    let clock: @Sendable () -> Int64

    static let secretHeader = HTTPField.Name("X-Petrel-Secret")!

    func register(on router: Router<PetrelRequestContext>) {
        guard !channels.isEmpty else { return }
        router.post("/carriers/:channel/receipts") { request, context in
            try await self.receive(request, channel: context.parameters.get("channel") ?? "")
        }
    }

    func receive(_ request: Request, channel: String) async throws -> Response {
        guard let rules = channels[channel] else {
            return Self.answer(1, "No channel \(channel) takes receipts here.", .notFound)
        }
        let given = request.headers[Self.secretHeader] ?? request.uri.queryParameters.get("secret") ?? ""
        guard rules.accepts(secret: given) else {
            logger.warning("carrier receipts refused: wrong secret", metadata: ["channel": "\(channel)"])
            return Self.answer(1, "The channel's secret is missing or wrong.", .unauthorized)
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: rules.maxBytes)
        } catch {
            return Self.answer(1, "The body is larger than \(rules.maxBytes) bytes.", .contentTooLarge)
        }
        let form = request.headers[.contentType]?.lowercased().hasPrefix("application/x-www-form-urlencoded") ?? false
        guard let reading = rules.read(Array(body.readableBytesView), form: form, channel: channel, nowMs: clock())
        else {
            return Self.answer(1, "The body must be JSON (an object or an array of them) or a form.", .badRequest)
        }
        if reading.passedOver > 0 {
            logger.debug(
                "carrier receipts passed over",
                metadata: ["channel": "\(channel)", "count": "\(reading.passedOver)"]
            )
        }
        guard await store(reading.receipts) else {
            return Self.answer(1, "The receipts could not be stored now; send them again.", .serviceUnavailable)
        }
        return Self.answer(0, "OK", .ok)
    }

    /// Hands the receipts to the processor; true once all are stored.
    func store(_ batch: [CarrierReceipt]) async -> Bool {
        guard !batch.isEmpty else { return true }
        return await withCheckedContinuation { (done: CheckedContinuation<Bool, Never>) in
            let left = Mutex((count: batch.count, ok: true))
            for r in batch {
                receipts.submit(r) { stored in
                    let finished = left.withLock { l -> Bool? in
                        l.count -= 1
                        l.ok = l.ok && stored
                        return l.count == 0 ? l.ok : nil
                    }
                    if let finished { done.resume(returning: finished) }
                }
            }
        }
    }

    static func answer(_ code: Int64, _ message: String, _ status: HTTPResponse.Status) -> Response {
        let body = ResponseEncoder.encode(
            [("code", .number(code)), ("msg", .string(message))],
            root: "",
            format: .json
        )
        return SandboxRoutes.json(String(decoding: body, as: UTF8.self), status: status)
    }
}
