import Foundation
import Logging
import NIOCore
import NIOEmbedded
import PetrelCore
import PetrelDelivery
import PetrelSMPP
import PetrelStore
import Testing

/// A customer's message is answered (deliver_sm_resp) only once it is on disk: a crash before that leaves it
/// unanswered, and the carrier sends it again.
@Suite struct InboundAnswerTests {
    /// Hands every deliver_sm to `InboundAnswer`, as `SMPPChannel` does.
    final class Forwarder: SMPPClientDelegate, @unchecked Sendable {
        let processor: InboundProcessor
        let loop: any EventLoop
        init(processor: InboundProcessor, loop: any EventLoop) {
            self.processor = processor
            self.loop = loop
        }
        func sessionBound(_ handler: SMPPClientHandler) {}
        func sessionBindRejected(_ handler: SMPPClientHandler, status: CommandStatus) {}
        func session(_ handler: SMPPClientHandler, submitted token: UInt64, result: ESMEStateMachine.SubmitResult) {}
        func session(_ handler: SMPPClientHandler, received pdu: PDU) {
            InboundAnswer.handle(
                pdu,
                from: handler,
                on: loop,
                channel: "c",
                inbound: processor,
                nowMs: 1000,
                logger: Logger(label: "test")
            )
        }
        func sessionClosed(_ handler: SMPPClientHandler, reason: String) {}
    }

    /// command_id, command_status and sequence_number of each PDU written.
    func headers(_ channel: NIOAsyncTestingChannel) async throws -> [(UInt32, UInt32, UInt32)] {
        var out: [(UInt32, UInt32, UInt32)] = []
        while var b = try await channel.readOutbound(as: ByteBuffer.self) {
            while b.readableBytes >= 16, let length = b.getInteger(at: b.readerIndex, as: UInt32.self) {
                let id = b.getInteger(at: b.readerIndex + 4, as: UInt32.self) ?? 0
                let status = b.getInteger(at: b.readerIndex + 8, as: UInt32.self) ?? 0
                let seq = b.getInteger(at: b.readerIndex + 12, as: UInt32.self) ?? 0
                out.append((id, status, seq))
                b.moveReaderIndex(forwardBy: min(Int(length), b.readableBytes))
            }
        }
        return out
    }

    /// The handler holds its delegate weakly: the caller keeps the forwarder.
    func bound(_ processor: InboundProcessor) async throws -> (NIOAsyncTestingChannel, Forwarder) {
        let channel = NIOAsyncTestingChannel()
        let forwarder = Forwarder(processor: processor, loop: channel.eventLoop)
        try await channel.testingEventLoop.executeInContext {
            let handler = SMPPClientHandler(
                configuration: .init(bind: Bind(mode: .transceiver, systemID: "p", password: "s")),
                name: "t",
                clock: { 0 }
            )
            handler.delegate = forwarder
            try channel.pipeline.syncOperations.addHandler(handler)
        }
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 2775))
        _ = try await headers(channel)  // bind_transceiver
        try await channel.writeInbound(
            try PDU(.bindResp(BindResp(mode: .transceiver, systemID: "s")), sequence: 1).encoded
        )
        return (channel, forwarder)
    }

    func deliver(_ text: String, sequence: UInt32) throws -> ByteBuffer {
        try PDU(
            .deliverSm(
                ShortMessage(
                    source: .international("85291234567"),
                    destination: .international("85260001234"),
                    shortMessage: Array(text.utf8)
                )
            ),
            sequence: sequence
        ).encoded
    }

    @Test func theAnswerWaitsForTheStore() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("petrel-mo-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try SQLiteStore(directory: dir, secrets: try SecretBox(key: Array(repeating: 1, count: 32)))
        let processor = InboundProcessor(
            store: store,
            configuration: .init(),
            logger: Logger(label: "test"),
            clock: { 1000 }
        )
        let (channel, forwarder) = try await bound(processor)
        defer { withExtendedLifetime(forwarder) {} }
        try await channel.writeInbound(try deliver("STOP", sequence: 42))
        try await channel.testingEventLoop.run()
        // Received, not stored yet: not answered.
        #expect(try await headers(channel).isEmpty)
        #expect(try await store.inboundMessages(account: nil, from: nil, limit: 10).isEmpty)
        await processor.flush()
        #expect(try await store.inboundMessages(account: nil, from: nil, limit: 10).map(\.text) == ["STOP"])
        try await channel.testingEventLoop.run()
        let answers = try await headers(channel)
        #expect(answers.count == 1 && answers[0].0 == 0x8000_0005 && answers[0].1 == 0 && answers[0].2 == 42)
        try await store.close()
        _ = try? await channel.finish()
    }

    /// A store that fails: the carrier is told (system error) and sends it again; nothing is acknowledged unstored.
    @Test func aFailedStoreIsAnsweredWithAnError() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("petrel-mo-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try SQLiteStore(directory: dir, secrets: try SecretBox(key: Array(repeating: 1, count: 32)))
        let processor = InboundProcessor(
            store: store,
            configuration: .init(),
            logger: Logger(label: "test"),
            clock: { 1000 }
        )
        let (channel, forwarder) = try await bound(processor)
        defer { withExtendedLifetime(forwarder) {} }
        try await store.close()
        try await channel.writeInbound(try deliver("hello", sequence: 7))
        await processor.flush()
        try await channel.testingEventLoop.run()
        let answers = try await headers(channel)
        #expect(answers.count == 1 && answers[0].0 == 0x8000_0005 && answers[0].1 == 0x08 && answers[0].2 == 7)
        _ = try? await channel.finish()
    }
}
