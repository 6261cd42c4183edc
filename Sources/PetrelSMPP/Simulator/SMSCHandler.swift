import Foundation
import NIOCore

/// One ESME connection to the simulator. It lives on its channel's event loop; other sessions reach it through
/// its `Receiver`, which hops there.
final class SMSCHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let server: SMSCServer
    private var decoder = NIOSingleStepByteToMessageProcessor(SMPPDecoder())
    private var bind: Bind?
    private var sequence: UInt32 = 1
    /// deliver_sm sent and not yet answered, by sequence number.
    private var unacked: [UInt32: ShortMessage] = [:]
    private var context: ChannelHandlerContext?
    /// How other sessions (other loops) hand it receipts; set once bound.
    private var receiver: Receiver?
    private let flusher = BurstFlush()

    init(server: SMSCServer) {
        self.server = server
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let bind, let receiver, bind.mode.canReceive { server.unregister(receiver, systemID: bind.systemID) }
        if bind != nil { server.count { $0.sessions -= 1 } }
        // Like a real SMSC, receipts the ESME never acknowledged go out again on its next bind.
        if let bind {
            for receipt in unacked.values {
                server.count { $0.receiptsResent += 1 }
                server.deliverReceipt(receipt, systemID: bind.systemID, preferred: nil, on: context.eventLoop)
            }
        }
        unacked = [:]
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        do {
            try flusher.read {
                try decoder.process(buffer: buffer) { frame in self.handle(frame, context) }
            }
        } catch {
            context.close(promise: nil)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flusher.readComplete(context)
        context.fireChannelReadComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func send(_ pdu: PDU, _ context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: 64)
        do {
            try pdu.encode(into: &buffer)
        } catch {
            // Only a PDU built from a peer's oversized data gets here: a simulator may just hang up.
            context.close(promise: nil)
            return
        }
        context.write(wrapOutboundOut(buffer), promise: nil)
        flusher.wrote(context)
    }

    func handle(_ frame: SMPPFrame, _ context: ChannelHandlerContext) {
        guard case .pdu(let pdu) = frame else {
            if case .malformed(_, let seq, let error) = frame {
                send(PDU(.genericNack, sequence: seq, status: error.status), context)
            }
            return
        }
        switch pdu.body {
        case .bind(let b):
            let c = server.configuration
            var status = CommandStatus.ok
            if bind != nil {
                status = .alreadyBound
            } else if let id = c.systemID, id != b.systemID {
                status = .invalidSystemID
            } else if let pw = c.password, pw != b.password {
                status = .invalidPassword
            }
            send(
                PDU(.bindResp(BindResp(mode: b.mode, systemID: "petrel-smsc")), sequence: pdu.sequence, status: status),
                context
            )
            guard status == .ok else {
                server.count { $0.bindsRefused += 1 }
                return
            }
            bind = b
            let receiver = Receiver(channel: context.channel, handler: NIOLoopBound(self, eventLoop: context.eventLoop))
            self.receiver = receiver
            server.count {
                $0.binds += 1
                $0.sessions += 1
                $0.maxSessions = max($0.maxSessions, $0.sessions)
            }
            if b.mode.canReceive { server.register(receiver, systemID: b.systemID) }
        case .submitSm(let m):
            guard let bind, bind.mode.canSubmit else {
                send(PDU(.submitSmResp(messageID: ""), sequence: pdu.sequence, status: .incorrectBindStatus), context)
                return
            }
            submit(m, sequence: pdu.sequence, bind: bind, context)
        case .enquireLink:
            send(PDU(.enquireLinkResp, sequence: pdu.sequence), context)
        case .unbind:
            send(PDU(.unbindResp, sequence: pdu.sequence), context)
            flusher.flush(context)
            context.close(promise: nil)
        case .deliverSmResp, .dataSmResp:
            guard let sent = unacked.removeValue(forKey: pdu.sequence) else { return }
            if sent.isDeliveryReceipt {
                server.count { $0.receiptsAcked += 1 }
            } else if pdu.status == .ok {
                server.count { $0.moAcked += 1 }
            }
        case .enquireLinkResp, .genericNack, .unbindResp, .submitSmResp, .bindResp:
            break
        case .deliverSm, .dataSm:
            send(PDU(.genericNack, sequence: pdu.sequence, status: .invalidCommandID), context)
        }
    }

    func submit(_ m: ShortMessage, sequence: UInt32, bind: Bind, _ context: ChannelHandlerContext) {
        let now = Int64((Date().timeIntervalSince1970 * 1000).rounded())
        server.count {
            $0.submits += 1
            $0.firstSubmitMs = $0.firstSubmitMs ?? now
            $0.lastSubmitMs = now
            if m.hasUDH || m.tlvs[tag: TLV.Tag.sarTotalSegments] != nil { $0.parts += 1 }
        }
        switch server.configuration.faults
            ? SMSCBehaviour.forDestination(m.destination.address) : .accept(receipt: .delivered)
        {
        case .silence:
            return
        case .reject(let status):
            server.count { $0.rejected += 1 }
            send(PDU(.submitSmResp(messageID: ""), sequence: sequence, status: status), context)
        case .accept(let final):
            server.noteAccepted(m)
            let ids = server.nextMessageID()
            send(PDU(.submitSmResp(messageID: ids.submitResp), sequence: sequence), context)
            guard m.registeredDelivery & 0x01 != 0 else { return }
            let receipt = receiptPDU(for: m, id: ids.receipt, state: final)
            let systemID = bind.systemID
            let preferred = bind.mode.canReceive ? receiver : nil
            let loop = context.eventLoop
            loop.scheduleTask(in: .milliseconds(server.configuration.receiptDelayMs)) { [server] in
                server.deliverReceipt(receipt, systemID: systemID, preferred: preferred, on: loop)
            }
        }
    }

    func receiptPDU(for m: ShortMessage, id: String, state: DeliveryReceipt.State) -> ShortMessage {
        let err = state == .delivered ? "000" : "001"
        let text =
            "id:\(id) sub:001 dlvrd:\(state == .delivered ? "001" : "000") submit date:2611260000 done date:2611260000 stat:\(state.rawValue) err:\(err) text:"
        let messageState: UInt8 =
            switch state {
            case .delivered: 2
            case .expired: 3
            case .deleted: 4
            case .undeliverable: 5
            case .rejected: 8
            default: 7
            }
        return ShortMessage(
            source: m.destination,
            destination: m.source,
            esmClass: 0x04,
            shortMessage: Array(text.utf8),
            tlvs: [.cString(TLV.Tag.receiptedMessageID, id), .uint8(TLV.Tag.messageState, messageState)]
        )
    }

    /// Sends a receipt (or, `mo`, a customer's message) on this (receiver-capable) session. On its event loop.
    func deliver(_ receipt: ShortMessage, mo: Bool = false) {
        guard let context, let bind else { return }
        guard context.channel.isActive else {
            // The session died after it was picked: the receipt waits for the next bind instead.
            server.deliverReceipt(receipt, systemID: bind.systemID, preferred: nil, on: context.eventLoop)
            return
        }
        sequence = sequence >= 0x7FFF_FFFF ? 1 : sequence + 1
        if !mo { server.count { $0.receiptsSent += 1 } }
        unacked[sequence] = receipt
        send(PDU(.deliverSm(receipt), sequence: sequence), context)
    }

    /// A bound session as other sessions see it: its channel (thread-safe) and the handler, used on its loop only.
    struct Receiver: Sendable {
        let channel: any Channel
        let handler: NIOLoopBound<SMSCHandler>

        var id: ObjectIdentifier { ObjectIdentifier(channel) }
        var isActive: Bool { channel.isActive }

        func deliver(_ receipt: ShortMessage, mo: Bool = false) {
            channel.eventLoop.execute { handler.value.deliver(receipt, mo: mo) }
        }
    }
}

@available(*, unavailable)
extension SMSCHandler: Sendable {}
