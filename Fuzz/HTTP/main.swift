import NIOCore
import PetrelAPI

// libFuzzer target: the HTTP door's request parser (`RPCRequestFront`), its framer for Hummingbird's requests
// (`RequestFramer`) and the connection state machine, on arbitrary bytes cut into arbitrary reads with arbitrary
// events between them. The three sources are the server's own files (symbolic links), compiled here without the
// rest of the server. Errors and closes are fine; crashes, hangs and broken invariants are not.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTP(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: start, count: count)
    guard let control = input.first else { return 0 }
    let bytes = ByteBuffer(bytes: input.dropFirst())
    let maxHead = 64 + Int(control & 0x0F) * 64
    let maxBody = Int(control >> 4) * 16

    // The parser alone: whatever it takes is within the bytes it was given.
    if case .request(let parsed) = RPCRequestFront.parse(bytes, maxHead: maxHead, maxBody: maxBody) {
        precondition(parsed.length <= bytes.readableBytes && parsed.request.body.count <= maxBody)
    }
    if let over = RPCRequestFront.oversized(bytes, maxHead: maxHead, maxBody: maxBody) {
        precondition(over.length > maxBody)
    }

    // The state machine, fed reads whose sizes and the events between them come from the bytes themselves.
    let base = NIODeadline.uptimeNanoseconds(1_000_000_000)
    var machine = HTTPConnectionStateMachine(
        configuration: .init(
            maxHead: maxHead,
            maxBody: maxBody,
            headTimeout: .seconds(10),
            bodyTimeout: .seconds(30),
            idleTimeout: .seconds(60)
        ),
        now: base
    )
    var clock = base
    var rest = bytes
    var serving = false
    var forwarded = 0
    var steps = 0
    while rest.readableBytes > 0, steps < 10_000 {
        steps += 1
        let selector = rest.readInteger(as: UInt8.self)!
        clock = clock + .milliseconds(Int64(selector) * 100)
        let size = min(Int(selector % 32) + 1, rest.readableBytes)
        var action = HTTPConnectionStateMachine.Action.none
        switch selector % 13 {
        case 0: action = machine.tick(now: clock)
        case 1: action = machine.writabilityChanged(selector & 0x80 == 0, now: clock)
        case 2: machine.responseHead(status: selector & 1 == 0 ? 100 : 200, now: clock)
        case 3: action = machine.responseEnd(now: clock)
        case 4: action = machine.quiesce()
        case 5: _ = machine.readRequested()
        case 6 where selector & 0x40 != 0: action = machine.inputClosed(now: clock)
        default: action = machine.read(rest.readSlice(length: size)!, now: clock)
        }
        for _ in 0..<64 {
            switch action {
            case .serve, .answerTooLarge:
                precondition(!serving, "a second request served before the first was answered")
                serving = true
                machine.answerQueued()
                if machine.answering() {
                    action = .close
                    continue
                }
                action = machine.answered(now: clock)
                serving = false
                if case .none = action { action = machine.answerFlushed(now: clock) }
            case .forward(let b):
                forwarded += b.readableBytes
                _ = machine.takeInputClosed()
                action = .none
            case .none, .passEvent, .close:
                break
            }
        }
        _ = machine.takePendingRead()
        if case .close = action { break }
    }
    precondition(forwarded <= bytes.readableBytes)
    if case .close = machine.inputClosed(now: clock) {}
    return 0
}
