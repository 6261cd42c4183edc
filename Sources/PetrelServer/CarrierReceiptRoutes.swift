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
/// once every receipt of the body is stored; a store failure, or no answer from the store within `storeWaitMs`,
/// answers 503 so the provider sends it again.
struct CarrierReceiptRoutes: Sendable {
    let channels: [String: HTTPReceiptRules]
    let receipts: ReceiptProcessor
    let logger: Logger
    let clock: @Sendable () -> Int64
    var storeWaitMs: Int64 = 10_000

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
        if reading.tooMany {
            return Self.answer(
                1,
                "The body holds more than \(rules.maxItems) receipts; send them in smaller batches.",
                .contentTooLarge
            )
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

    /// Hands the receipts to the processor; true once all are stored, false when one was not or they were not all
    /// stored within `storeWaitMs`: a store that hangs must not hold the provider's request (and its connection,
    /// which the door never times out while an answer is owed) forever. 503 has it send them again; a receipt
    /// applied twice settles its message once.
    func store(_ batch: [CarrierReceipt]) async -> Bool {
        guard !batch.isEmpty else { return true }
        let waitMs = storeWaitMs
        return await withCheckedContinuation { (done: CheckedContinuation<Bool, Never>) in
            let waiting = Waiting(count: batch.count, done)
            waiting.start(
                timer: Task {
                    try? await Task.sleep(for: .milliseconds(waitMs))
                    waiting.give(false)
                }
            )
            for r in batch {
                receipts.submit(r) { stored in waiting.acknowledged(stored) }
            }
        }
    }

    /// One answer, from whichever comes first: the last acknowledgement or the deadline.
    final class Waiting: Sendable {
        private let state:
            Mutex<(left: Int, ok: Bool, done: CheckedContinuation<Bool, Never>?, timer: Task<Void, Never>?)>

        init(count: Int, _ done: CheckedContinuation<Bool, Never>) {
            state = Mutex((count, true, done, nil))
        }

        func start(timer: Task<Void, Never>) {
            let answered = state.withLock { s -> Bool in
                if s.done == nil { return true }
                s.timer = timer
                return false
            }
            if answered { timer.cancel() }
        }

        func acknowledged(_ stored: Bool) {
            let finished = state.withLock { s -> Bool? in
                s.left -= 1
                s.ok = s.ok && stored
                return s.left == 0 ? s.ok : nil
            }
            if let finished { give(finished) }
        }

        func give(_ result: Bool) {
            let (done, timer) = state.withLock { s in
                defer {
                    s.done = nil
                    s.timer = nil
                }
                return (s.done, s.timer)
            }
            timer?.cancel()
            done?.resume(returning: result)
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
