public import Logging
public import NIOCore
public import PetrelCore
public import PetrelSMPP

/// What a session does with a deliver_sm or data_sm that is not a delivery receipt: the part goes to the
/// `InboundProcessor`, and the PDU is answered only once the part is durable (ok), or not stored (system error:
/// the carrier sends it again). Without a processor (a channel that takes no inbound) it is answered and dropped.
public enum InboundAnswer {
    public static func handle(
        _ pdu: PDU,
        from handler: SMPPClientHandler,
        on loop: any EventLoop,
        channel: String,
        inbound: InboundProcessor?,
        nowMs: Int64,
        country: NumberingPlan.Region? = nil,
        logger: Logger
    ) {
        guard let inbound, let part = InboundPDU.part(pdu, channel: channel, nowMs: nowMs, country: country) else {
            logger.debug(
                "ignored a deliver_sm that is not a delivery receipt",
                metadata: ["session": "\(handler.name)"]
            )
            handler.respond(to: pdu)
            return
        }
        // The handler is not Sendable: the answer hops back to its loop with it.
        let answer = NIOLoopBound(handler, eventLoop: loop)
        inbound.submit(part) { stored in
            loop.execute { answer.value.respond(to: pdu, status: stored ? .ok : .systemError) }
        }
    }
}
