import NIOCore
import NIOEmbedded
import Testing

@testable import PetrelSMPP

#if canImport(Glibc)
import Glibc
#endif

@Suite struct SMPPClientHandlerTests {
    final class ReadCounter: ChannelOutboundHandler, @unchecked Sendable {
        typealias OutboundIn = ByteBuffer
        var reads = 0
        func read(context: ChannelHandlerContext) {
            reads += 1
            context.read()
        }
    }

    final class Holder: SMPPClientDelegate, @unchecked Sendable {
        var held: [PDU] = []
        func sessionBound(_ handler: SMPPClientHandler) {}
        func sessionBindRejected(_ handler: SMPPClientHandler, status: CommandStatus) {}
        func session(_ handler: SMPPClientHandler, submitted token: UInt64, result: ESMEStateMachine.SubmitResult) {}
        func session(_ handler: SMPPClientHandler, received pdu: PDU) { held.append(pdu) }
        var closed: [String] = []
        func sessionClosed(_ handler: SMPPClientHandler, reason: String) { closed.append(reason) }
    }

    /// A connection error closes the session with the system's sentence, not NIO's "read(…) (errno: 104)".
    @Test func aConnectionErrorIsSaidInWords() throws {
        let holder = Holder()
        let handler = SMPPClientHandler(
            configuration: .init(bind: Bind(mode: .transceiver, systemID: "p", password: "s")),
            name: "t",
            clock: { 0 }
        )
        handler.delegate = holder
        let channel = EmbeddedChannel(handlers: [handler])
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 2775)).wait()
        channel.pipeline.fireErrorCaught(IOError(errnoCode: ECONNRESET, reason: "read(descriptor:pointer:size:)"))
        _ = try channel.finish(acceptAlreadyClosed: true)
        #expect(holder.closed == ["Connection reset by peer"])
    }

    /// Issue 20: a flood of deliver_sm waiting for the store stops the reads (TCP pushes back on the SMSC) instead
    /// of growing memory, and reading resumes as they are answered.
    @Test func aFloodOfDeliveriesHoldsTheReads() throws {
        let counter = ReadCounter()
        let holder = Holder()
        let handler = SMPPClientHandler(
            configuration: .init(bind: Bind(mode: .transceiver, systemID: "p", password: "s")),
            name: "t",
            clock: { 0 }
        )
        handler.delegate = holder
        let channel = EmbeddedChannel(handlers: [counter, handler])
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 2775)).wait()
        _ = try channel.readOutbound(as: ByteBuffer.self)  // bind_transceiver
        try channel.writeInbound(try PDU(.bindResp(BindResp(mode: .transceiver, systemID: "s")), sequence: 1).encoded)
        #expect(handler.isBound)

        var flood = ByteBuffer()
        for n in 0..<SMPPClientHandler.maxUnansweredDeliveries {
            try PDU(.deliverSm(ShortMessage(shortMessage: Array("MO \(n)".utf8))), sequence: UInt32(100 + n)).encode(
                into: &flood
            )
        }
        try channel.writeInbound(flood)
        #expect(holder.held.count == SMPPClientHandler.maxUnansweredDeliveries)
        let before = counter.reads
        channel.read()
        #expect(counter.reads == before)  // held
        handler.respond(to: holder.held[0])
        #expect(counter.reads == before + 1)  // resumed
        channel.read()
        #expect(counter.reads == before + 2)
        _ = try channel.finish(acceptAlreadyClosed: true)
    }
}
