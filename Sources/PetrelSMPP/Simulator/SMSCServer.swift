public import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
public import NIOSSL

/// `petrel smsc`: an SMSC simulator. Accepts binds with the configured credentials, answers submit_sm by the
/// destination's ending (`SMSCBehaviour`), and sends delivery receipts after a delay.
public final class SMSCServer: Sendable {
    public struct Configuration: Sendable {
        public var host = "127.0.0.1"
        public var port = 2775
        /// Credentials a bind must present; nil accepts any.
        public var systemID: String?
        public var password: String?
        public var receiptDelayMs: Int64 = 100
        /// submit_sm_resp message ids in hex (as many SMSCs) with receipts quoting them in decimal, to exercise
        /// correlation of mixed id formats; false = decimal in both.
        public var hexIDs = false
        /// False: every submit is accepted and delivered, whatever the number ends in (a plain benchmark sink).
        public var faults = true
        /// Mobile-originated messages to send to bound receivers, if any.
        public var originate: Originate?
        /// Binds over TLS (`--tls-cert`, `--tls-key`); nil: plain TCP.
        public var tls: NIOSSLContext?

        public init() {}
    }

    /// `--mo-from PHONE --mo-text TEXT --mo-every MS [--mo-burst N]`: every `everyMs`, `burst` messages from `from` to
    /// `to`, each `text` with `{n}` replaced by its number, as deliver_sm (UDH-concatenated parts when long).
    public struct Originate: Sendable {
        public var from: String
        public var to: String
        public var text: String
        public var everyMs: Int64
        public var burst: Int

        public init(from: String, to: String, text: String, everyMs: Int64, burst: Int = 1) {
            self.from = from
            self.to = to
            self.text = text
            self.everyMs = everyMs
            self.burst = burst
        }
    }

    public struct Counters: Sendable, Equatable {
        public var binds = 0
        public var bindsRefused = 0
        public var submits = 0
        public var accepted = 0
        public var rejected = 0
        public var receiptsSent = 0
        public var receiptsAcked = 0
        /// Receipts sent again because the session that had them closed before acknowledging.
        public var receiptsResent = 0
        /// Sessions bound now, and the most ever bound at once.
        public var sessions = 0
        public var maxSessions = 0
        /// Wall-clock times (Unix milliseconds) of the first and the latest submit_sm.
        public var firstSubmitMs: Int64?
        public var lastSubmitMs: Int64?
        public var receiptsUndeliverable = 0
        public var parts = 0
        /// submit_sm whose destination and bytes (UDH included) the simulator had already accepted: resubmissions.
        public var duplicates = 0
        /// Mobile-originated messages sent, their parts, and the parts the ESME answered.
        public var moMessages = 0
        public var moParts = 0
        public var moAcked = 0
    }

    let configuration: Configuration
    let logger: Logger
    let state = NIOLockedValueBox(State())
    private let channel: NIOLockedValueBox<(any Channel)?> = NIOLockedValueBox(nil)

    struct State {
        var counters = Counters()
        var nextID: UInt64 = 1
        var seen: Set<Int> = []
        /// Receiver-capable sessions by system_id, for receipts of transmitter binds.
        var receivers: [String: [ObjectIdentifier: SMSCHandler.Receiver]] = [:]
    }

    public init(configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    public var counters: Counters { state.withLockedValue { $0.counters } }

    /// A TLS context for binds, from a PEM certificate (chain) and its private key: TLS 1.2 and 1.3 only (also
    /// Petrel's own SMPP server's, `smppServer.tls`).
    public static func tlsContext(certFile: String, keyFile: String) throws -> NIOSSLContext {
        let chain = try NIOSSLCertificate.fromPEMFile(certFile)
        let key = try NIOSSLPrivateKey(file: keyFile, format: .pem)
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) },
            privateKey: .privateKey(key)
        )
        configuration.minimumTLSVersion = .tlsv12
        return try NIOSSLContext(configuration: configuration)
    }

    /// Binds the listening socket; returns the port (useful with port 0).
    public func start() async throws -> Int {
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls = self.configuration.tls {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
                    }
                    try channel.pipeline.syncOperations.addHandler(SMSCHandler(server: self))
                }
            }
        let ch = try await bootstrap.bind(host: configuration.host, port: configuration.port).get()
        channel.withLockedValue { $0 = ch }
        if let o = configuration.originate {
            let every = TimeAmount.milliseconds(max(1, o.everyMs))
            ch.eventLoop.scheduleRepeatedTask(initialDelay: every, delay: every) { _ in self.originate(o) }
        }
        return ch.localAddress?.port ?? configuration.port
    }

    /// One round of `--mo-*`: to any bound receiver; nothing while none is bound.
    func originate(_ o: Originate) {
        guard let target = state.withLockedValue({ $0.receivers.values.lazy.flatMap(\.values).first { $0.isActive } })
        else { return }
        for _ in 0..<o.burst {
            let n = state.withLockedValue { s -> Int in
                s.counters.moMessages += 1
                return s.counters.moMessages
            }
            let text = o.text.replacing("{n}", with: String(n))
            guard let parts = try? MessageParts.make(text, mode: .udh, reference: UInt16(truncatingIfNeeded: n)) else {
                continue
            }
            for p in parts {
                count { $0.moParts += 1 }
                target.deliver(
                    ShortMessage(
                        source: .international(o.from),
                        destination: .international(o.to),
                        esmClass: p.esmClass,
                        dataCoding: p.dataCoding,
                        shortMessage: p.shortMessage,
                        tlvs: p.tlvs
                    ),
                    mo: true
                )
            }
        }
    }

    public func stop() async throws {
        try await channel.withLockedValue { $0 }?.close()
    }

    func nextMessageID() -> (submitResp: String, receipt: String) {
        let n = state.withLockedValue { s -> UInt64 in
            defer { s.nextID += 1 }
            return s.nextID
        }
        // Ids like real SMSCs: with leading zeros in hex mode, to exercise tolerant correlation.
        return configuration.hexIDs ? ("00" + String(n, radix: 16, uppercase: true), String(n)) : (String(n), String(n))
    }

    func register(_ receiver: SMSCHandler.Receiver, systemID: String) {
        state.withLockedValue { $0.receivers[systemID, default: [:]][receiver.id] = receiver }
    }

    func unregister(_ receiver: SMSCHandler.Receiver, systemID: String) {
        state.withLockedValue { _ = $0.receivers[systemID]?.removeValue(forKey: receiver.id) }
    }

    func receiver(for systemID: String) -> SMSCHandler.Receiver? {
        state.withLockedValue { $0.receivers[systemID]?.values.first { $0.isActive } }
    }

    /// Like a real SMSC, keeps a receipt until a receiver of the same system_id is bound (for up to a minute):
    /// the submitting session first, else any other.
    func deliverReceipt(
        _ receipt: ShortMessage,
        systemID: String,
        preferred: SMSCHandler.Receiver?,
        on loop: any EventLoop,
        attempt: Int = 0
    ) {
        if let target = (preferred?.isActive == true ? preferred : nil) ?? receiver(for: systemID) {
            target.deliver(receipt)
            return
        }
        guard attempt < 120 else {
            count { $0.receiptsUndeliverable += 1 }
            return
        }
        loop.scheduleTask(in: .milliseconds(500)) {
            self.deliverReceipt(receipt, systemID: systemID, preferred: nil, on: loop, attempt: attempt + 1)
        }
    }

    /// Notes an accepted submit's content; counts it as a duplicate when seen before.
    func noteAccepted(_ m: ShortMessage) {
        var hasher = Hasher()
        hasher.combine(m.destination.address)
        hasher.combine(m.shortMessage)
        hasher.combine(m.tlvs[tag: TLV.Tag.messagePayload]?.value ?? [])
        hasher.combine(m.tlvs[tag: TLV.Tag.sarSegmentSeqnum]?.value ?? [])
        let key = hasher.finalize()
        state.withLockedValue {
            $0.counters.accepted += 1
            if !$0.seen.insert(key).inserted { $0.counters.duplicates += 1 }
        }
    }

    func count(_ update: (inout Counters) -> Void) {
        state.withLockedValue { update(&$0.counters) }
    }
}
