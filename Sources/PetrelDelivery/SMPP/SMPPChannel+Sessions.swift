import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PetrelCore
public import PetrelSMPP
import PetrelStore

extension SMPPChannel {
    /// Opens session `i`'s connection; its handler reports back through the delegate methods below.
    func connect(_ i: Int) {
        let mode = machine.sessions[i].mode
        let config = ESMEStateMachine.Configuration(
            bind: Bind(
                mode: mode,
                systemID: configuration.systemID,
                password: configuration.password,
                systemType: configuration.systemType
            ),
            window: configuration.window,
            responseTimeoutMs: configuration.responseTimeoutMs,
            enquireLinkIntervalMs: configuration.enquireLinkIntervalMs
        )
        let name = links[i].name
        let clock = clock
        let tls: (context: NIOSSLContext, hostname: String?)?
        do {
            tls = try tlsClient()
        } catch {
            let text = TLSErrorText.describe(error, host: configuration.host, peer: "the SMSC") ?? "TLS: \(error)"
            logger.warning("connect failed", metadata: ["session": "\(name)", "reason": "\(text)"])
            machine.connectFailed(i, error: text, nowMs: clock(), jitter: .random(in: 0...1))
            run()
            return
        }
        let expected = tls.map { $0.hostname ?? configuration.host } ?? configuration.host
        ClientBootstrap(group: loop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                // Runs on `loop` (the bootstrap's only event loop), before the connection can bind.
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        let ssl = try NIOSSLClientHandler(context: tls.context, serverHostname: tls.hostname)
                        try channel.pipeline.syncOperations.addHandler(ssl)
                    }
                    let handler = SMPPClientHandler(configuration: config, name: name, clock: clock)
                    handler.delegate = self
                    handler.errorText = { TLSErrorText.describe($0, host: expected, peer: "the SMSC") }
                    try channel.pipeline.syncOperations.addHandler(handler)
                    self.links[i].handler = handler
                }
            }
            .connect(host: configuration.host, port: configuration.port)
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    self.links[i].channel = channel
                case .failure(let error):
                    let text = NetworkErrorText.connecting(
                        error,
                        host: self.configuration.host,
                        port: self.configuration.port,
                        peer: "the SMSC"
                    )
                    self.logger.warning("connect failed", metadata: ["session": "\(name)", "reason": "\(text)"])
                    self.logger.debug("connect failed", metadata: ["session": "\(name)", "error": "\(error)"])
                    self.links[i].handler = nil
                    self.machine.connectFailed(i, error: text, nowMs: self.clock(), jitter: .random(in: 0...1))
                    self.run()
                }
            }
    }

    /// The TLS context (made once) and the name the SMSC's certificate must carry: `serverName`, else the host
    /// unless it is an IP address (then the certificate must name that address, and no SNI is sent). nil: plain TCP.
    func tlsClient() throws -> (context: NIOSSLContext, hostname: String?)? {
        guard let settings = configuration.tls else { return nil }
        let context = try tlsContext ?? NIOSSLContext(configuration: settings.clientConfiguration())
        tlsContext = context
        let host = configuration.host
        let isAddress = (try? SocketAddress(ipAddress: host, port: 0)) != nil
        return (context, settings.serverName ?? (isAddress ? nil : host))
    }

    func session(for handler: SMPPClientHandler) -> Int? {
        links.firstIndex { $0.handler === handler }
    }
}

extension SMPPChannel: SMPPClientDelegate {
    public func sessionBound(_ handler: SMPPClientHandler) {
        guard let i = session(for: handler) else { return }
        machine.bound(i)
        logger.info("bound", metadata: ["session": "\(handler.name)"])
        run()
        onCapacity()
    }

    public func sessionBindRejected(_ handler: SMPPClientHandler, status: CommandStatus) {
        logger.error("bind refused", metadata: ["session": "\(handler.name)", "status": "\(status)"])
        if let i = session(for: handler) { machine.bindRejected(i) }
    }

    public func session(_ handler: SMPPClientHandler, submitted token: UInt64, result: ESMEStateMachine.SubmitResult) {
        submitted(token, result)
    }

    public func session(_ handler: SMPPClientHandler, received pdu: PDU) {
        let (tlvs, text, isReceipt): ([TLV], [UInt8], Bool) =
            switch pdu.body {
            case .deliverSm(let m):
                (
                    m.tlvs,
                    m.shortMessage.isEmpty ? (m.tlvs[tag: TLV.Tag.messagePayload]?.value ?? []) : m.shortMessage,
                    m.isDeliveryReceipt
                )
            case .dataSm(let d): (d.tlvs, d.tlvs[tag: TLV.Tag.messagePayload]?.value ?? [], d.isDeliveryReceipt)
            default: ([], [], false)
            }
        guard isReceipt else {
            // A customer's message: stored before it is answered.
            InboundAnswer.handle(
                pdu,
                from: handler,
                on: loop,
                channel: id,
                inbound: inbound,
                nowMs: clock(),
                country: configuration.country.flatMap { NumberingPlan.shared.region($0) },
                logger: logger
            )
            return
        }
        guard let receipt = DeliveryReceipt.parse(tlvs: tlvs, text: text) else {
            logger.debug("ignored a delivery receipt that does not parse", metadata: ["session": "\(handler.name)"])
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
            channel: id,
            carrierId: receipt.messageID,
            status: status,
            errorCode: receipt.state == .delivered ? "" : receipt.state.rawValue,
            atMs: clock(),
            reading: receipts.reading(for: id)
        )
        // Acknowledge only once the receipt is on disk: if we die first, the SMSC sends it again. The handler is
        // not Sendable: the answer hops back to its loop (ours) with it.
        let answer = NIOLoopBound(handler, eventLoop: loop)
        receipts.submit(carrierReceipt) { [loop] stored in
            loop.execute { answer.value.respond(to: pdu, status: stored ? .ok : .systemError) }
        }
    }

    public func sessionClosed(_ handler: SMPPClientHandler, reason: String) {
        guard let i = session(for: handler) else { return }
        links[i].handler = nil
        links[i].channel = nil
        links[i].unflushed = false
        if !machine.isStopping {
            logger.warning("session closed", metadata: ["session": "\(handler.name)", "reason": "\(reason)"])
        }
        machine.closed(i, reason: reason, nowMs: clock(), jitter: .random(in: 0...1))
        run()
    }
}
