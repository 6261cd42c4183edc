import PetrelCore

/// One message an ESME submitted, ready for the accept path: its text decoded from every part, and the PDUs
/// (sequence numbers) whose responses wait for it.
public struct Submission: Sendable, Equatable {
    public var from: String
    public var to: String
    public var text: String
    /// InboundText's name of how the text was read: gsm7, ucs2, latin1, ascii, or hex (not text).
    public var encoding: String
    public var registeredDelivery: UInt8
    public var parts: Int
}

/// Joins the parts of concatenated submissions (UDH or SAR) of one bind into one message. Every held part holds a
/// slot of the bind's window until its message is answered, so what is held is bounded by the window; parts whose
/// siblings do not come within `timeoutMs` are refused.
struct SubmitAssembler: Sendable {
    struct Held: Sendable {
        var parts: [InboundPart] = []
        var requests: [Request] = []
        var registeredDelivery: UInt8 = 0
        var startedAtMs: Int64
    }

    struct Request: Sendable, Equatable {
        var sequence: UInt32
        var dataSm: Bool
    }

    let timeoutMs: Int64
    private(set) var held: [String: Held] = [:]

    init(timeoutMs: Int64) {
        self.timeoutMs = timeoutMs
    }

    /// The part's message when it is complete (or was never split), with the requests it answers; nil while it
    /// waits for siblings.
    mutating func add(_ m: ShortMessage, _ request: Request, nowMs: Int64) -> (Submission, [Request])? {
        // InboundPDU reads user data headers, SAR and message_payload for deliver_sm; a submit_sm is the same shape.
        guard let part = InboundPDU.part(PDU(.deliverSm(m), sequence: 0), channel: "", nowMs: nowMs) else {
            return nil
        }
        guard let concat = part.concat else {
            return (submission([part], m.registeredDelivery), [request])
        }
        let key = part.groupKey
        var h = held[key] ?? Held(startedAtMs: nowMs)
        h.parts.append(part)
        h.requests.append(request)
        h.registeredDelivery |= m.registeredDelivery
        let seqs = Set(h.parts.compactMap { $0.concat?.seq })
        guard seqs.count >= concat.total else {
            held[key] = h
            return nil
        }
        held[key] = nil
        return (submission(h.parts, h.registeredDelivery), h.requests)
    }

    func submission(_ parts: [InboundPart], _ registeredDelivery: UInt8) -> Submission {
        let (text, encoding, _) = InboundText.assemble(parts)
        let first = parts[0]
        return Submission(
            from: first.from,
            to: first.to,
            text: text,
            encoding: encoding,
            registeredDelivery: registeredDelivery,
            parts: parts.count
        )
    }

    /// Requests of messages whose parts waited too long.
    mutating func expire(nowMs: Int64) -> [Request] {
        var out: [Request] = []
        for (key, h) in held where nowMs - h.startedAtMs >= timeoutMs {
            out += h.requests
            held[key] = nil
        }
        return out
    }
}
