import NIOCore
import PetrelSMPP

/// libFuzzer target: the SMPP decoder on arbitrary bytes. Anything it accepts must encode again and decode
/// to the same PDU; nothing may crash or loop.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSMPP(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    var buffer = ByteBufferAllocator().buffer(bytes: UnsafeRawBufferPointer(start: start, count: count))
    var decoder = SMPPDecoder()
    for _ in 0..<64 {
        let before = buffer.readableBytes
        guard let frame = try? decoder.decode(buffer: &buffer) else { break }
        if case .pdu(let pdu) = frame {
            var again = ByteBufferAllocator().buffer(capacity: 64)
            pdu.encode(into: &again)
            var second = SMPPDecoder()
            guard case .pdu(let back)? = try? second.decode(buffer: &again), back == pdu else {
                fatalError("re-encoded PDU does not decode to itself: \(pdu)")
            }
        }
        if case .pdu(let pdu) = frame, case .deliverSm(let m) = pdu.body {
            _ = DeliveryReceipt.parse(tlvs: m.tlvs, text: m.shortMessage)
        }
        precondition(buffer.readableBytes < before, "the decoder made no progress")
    }
    return 0
}
