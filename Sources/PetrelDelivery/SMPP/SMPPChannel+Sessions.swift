import Logging
import NIOCore
import NIOPosix
import PetrelCore
import PetrelSMPP
import PetrelStore

extension SMPPChannel {
    /// One bind: its connection, and how long to wait before the next attempt.
    /// Only touched on the channel's event loop.
    final class Session: @unchecked Sendable {
        let index: Int
        /// The bind slot it needs (a transmitter and its receiver share one).
        let slot: Int
        let mode: BindMode
        let name: String
        var handler: SMPPClientHandler?
        var channel: (any NIOCore.Channel)?
        var backoffMs: Int64 = 0
        /// Waiting for a bind slot (not connected, no reconnect scheduled).
        var parked = false

        init(index: Int, slot: Int, mode: BindMode, name: String) {
            self.index = index
            self.slot = slot
            self.mode = mode
            self.name = name
        }
    }

    func connect(_ s: Session) {
        guard !stopping else { return }
        guard s.slot < allowedSessions else {
            s.parked = true
            return
        }
        let config = ESMEStateMachine.Configuration(
            bind: Bind(mode: s.mode, systemID: configuration.systemID, password: configuration.password, systemType: configuration.systemType),
            window: configuration.window, responseTimeoutMs: configuration.responseTimeoutMs,
            enquireLinkIntervalMs: configuration.enquireLinkIntervalMs)
        let handler = SMPPClientHandler(configuration: config, name: s.name, clock: clock)
        handler.delegate = self
        ClientBootstrap(group: loop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(handler) }
            }
            .connect(host: configuration.host, port: configuration.port)
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    s.channel = channel
                    s.handler = handler
                case .failure(let error):
                    self.logger.warning("connect failed", metadata: ["session": "\(s.name)", "error": "\(error)"])
                    self.health.connectFailures += 1
                    self.health.lastError = "connect failed: \(error)"
                    self.reconnectLater(s)
                }
            }
    }

    func reconnectLater(_ s: Session) {
        guard !stopping else { return }
        s.backoffMs = min(max(s.backoffMs * 2, configuration.reconnectMinMs), configuration.reconnectMaxMs)
        let delay = s.backoffMs / 2 + Int64.random(in: 0...(s.backoffMs / 2))
        loop.scheduleTask(in: .milliseconds(delay)) { self.connect(s) }
    }

    func session(for handler: SMPPClientHandler) -> Session? {
        sessions.first { $0.handler === handler }
    }
}

extension SMPPChannel: SMPPClientDelegate {
    public func sessionBound(_ handler: SMPPClientHandler) {
        if let s = session(for: handler) { s.backoffMs = 0 }
        logger.info("bound", metadata: ["session": "\(handler.name)"])
        pump()
        onCapacity()
    }

    public func sessionBindRejected(_ handler: SMPPClientHandler, status: CommandStatus) {
        logger.error("bind refused", metadata: ["session": "\(handler.name)", "status": "\(status)"])
        // Wrong credentials do not fix themselves quickly: wait the longest.
        if let s = session(for: handler) { s.backoffMs = configuration.reconnectMaxMs / 2 }
    }

    public func session(_ handler: SMPPClientHandler, submitted token: UInt64, result: ESMEStateMachine.SubmitResult) {
        submitted(token, result)
    }

    public func session(_ handler: SMPPClientHandler, received pdu: PDU) {
        let (tlvs, text, isReceipt): ([TLV], [UInt8], Bool) =
            switch pdu.body {
            case .deliverSm(let m): (m.tlvs, m.shortMessage.isEmpty ? (m.tlvs[tag: TLV.Tag.messagePayload]?.value ?? []) : m.shortMessage, m.isDeliveryReceipt)
            case .dataSm(let d): (d.tlvs, d.tlvs[tag: TLV.Tag.messagePayload]?.value ?? [], d.isDeliveryReceipt)
            default: ([], [], false)
            }
        guard isReceipt, let receipt = DeliveryReceipt.parse(tlvs: tlvs, text: text) else {
            // Mobile-originated messages are not handled yet; acknowledge so the SMSC does not resend forever.
            logger.debug("ignored a deliver_sm that is not a delivery receipt", metadata: ["session": "\(handler.name)"])
            handler.respond(to: pdu)
            return
        }
        guard receipt.state.isFinal else {
            handler.respond(to: pdu)
            return
        }
        let status: MessageStatus =
            switch receipt.state {
            case .delivered: .delivered
            case .expired: .expired
            default: .failed
            }
        let carrierReceipt = CarrierReceipt(
            channel: id, carrierId: receipt.messageID, status: status,
            errorCode: receipt.state == .delivered ? "" : receipt.state.rawValue, atMs: clock(),
            reading: receipts.reading(for: id))
        // Acknowledge only once the receipt is on disk: if we die first, the SMSC sends it again.
        receipts.submit(carrierReceipt) { stored in
            handler.eventLoop?.execute { handler.respond(to: pdu, status: stored ? .ok : .systemError) }
        }
    }

    public func sessionClosed(_ handler: SMPPClientHandler, reason: String) {
        guard let s = session(for: handler) else { return }
        s.handler = nil
        s.channel = nil
        updateCapacity()
        if !stopping {
            logger.warning("session closed", metadata: ["session": "\(handler.name)", "reason": "\(reason)"])
            health.sessionsClosed += 1
            health.lastError = "session closed: \(reason)"
            reconnectLater(s)
        }
    }
}
