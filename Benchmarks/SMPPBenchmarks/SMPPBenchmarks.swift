import Benchmark
import NIOCore
import PetrelSMPP

/// The SMPP path without sockets: a text is split and encoded, the session machine issues the submit_sm,
/// the codec writes it, the SMSC side decodes it and answers, and the machine matches the response.
/// Target (issue 3): at least 20,000 submit_sm per second on this machine.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.throughput, .wallClock, .mallocCountTotal],
        maxDuration: .seconds(3)
    )

    Benchmark("encode-submit-decode (GSM, one part)") { benchmark in
        var path = SubmitPath()
        for _ in benchmark.scaledIterations {
            blackHole(path.roundTrip("Your verification code is 482913. It expires in 5 minutes."))
        }
    }
    Benchmark("encode-submit-decode (UCS-2, three parts)") { benchmark in
        var path = SubmitPath()
        let text = String(repeating: "您的验证码是482913，五分钟内有效。", count: 6)
        for _ in benchmark.scaledIterations { blackHole(path.roundTrip(text)) }
    }
    Benchmark("delivery receipt decode + parse") { benchmark in
        var buffer = ByteBufferAllocator().buffer(capacity: 256)
        let text =
            "id:7F3A0012 sub:001 dlvrd:001 submit date:2611260101 done date:2611260102 stat:DELIVRD err:000 text:Your ver"
        try! PDU(.deliverSm(ShortMessage(esmClass: 0x04, shortMessage: Array(text.utf8))), sequence: 9).encode(
            into: &buffer
        )
        for _ in benchmark.scaledIterations {
            var copy = buffer
            var decoder = SMPPDecoder()
            guard case .pdu(let pdu)? = try? decoder.decode(buffer: &copy), case .deliverSm(let m) = pdu.body else {
                fatalError()
            }
            blackHole(DeliveryReceipt.parse(tlvs: m.tlvs, text: m.shortMessage))
        }
    }
}

struct SubmitPath {
    var machine: ESMEStateMachine
    var buffer = ByteBufferAllocator().buffer(capacity: 512)
    var smsc = SMPPDecoder()
    var esme = SMPPDecoder()
    var token: UInt64 = 0
    var reference: UInt16 = 0

    init() {
        machine = ESMEStateMachine(
            configuration: .init(bind: Bind(mode: .transceiver, systemID: "bench", password: "pw"))
        )
        _ = machine.connected(nowMs: 0)
        _ = machine.received(
            .pdu(PDU(.bindResp(BindResp(mode: .transceiver, systemID: "smsc")), sequence: 1)),
            nowMs: 0
        )
    }

    /// Returns the number of parts acknowledged.
    mutating func roundTrip(_ text: String) -> Int {
        reference &+= 1
        var acknowledged = 0
        for part in try! MessageParts.make(text, mode: .udh, reference: reference) {
            token += 1
            let message = ShortMessage(
                source: Address(ton: 5, npi: 0, address: "Petrel"),
                destination: Address(ton: 1, npi: 1, address: "85292012345"),
                esmClass: part.esmClass,
                registeredDelivery: 1,
                dataCoding: part.dataCoding,
                shortMessage: part.shortMessage,
                tlvs: part.tlvs
            )
            guard case .send(let submit)? = machine.submit(message, token: token, nowMs: 1) else {
                fatalError("window full")
            }
            buffer.clear()
            try! submit.encode(into: &buffer)
            guard case .pdu(let received)? = try? smsc.decode(buffer: &buffer) else {
                fatalError("undecodable submit_sm")
            }
            buffer.clear()
            try! PDU(.submitSmResp(messageID: String(token, radix: 16)), sequence: received.sequence).encode(
                into: &buffer
            )
            guard let frame = try? esme.decode(buffer: &buffer) else { fatalError("undecodable submit_sm_resp") }
            if case .submitted? = machine.received(frame, nowMs: 2).first { acknowledged += 1 }
        }
        return acknowledged
    }
}
