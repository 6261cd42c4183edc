public import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
public import NIOSSL

/// Petrel's SMPP server: ESMEs of customers bind to it and submit. Each connection is a `SMSCSessionHandler`; the
/// delegate decides binds and messages. Connections past `maxConnections` are closed as they arrive. With `tls`, every
/// connection speaks TLS (the handshake first, nothing in plain text); a handshake counts against the session's
/// bind deadline, so one that never completes holds its slot no longer than an unbound connection.
public final class SMPPServer: Sendable {
    public struct Configuration: Sendable {
        public var host = "127.0.0.1"
        public var port = 2776
        /// The system_id in bind responses.
        public var systemID = "petrel"
        public var maxConnections = 256
        public var session = SMSCSessionStateMachine.Configuration()
        /// The server's certificate and key: TLS only on this listener. nil: plain TCP.
        public var tls: NIOSSLContext?

        public init() {}
    }

    public let configuration: Configuration
    let delegate: any SMPPServerDelegate
    let logger: Logger
    let clock: @Sendable () -> Int64
    private let state = NIOLockedValueBox(State())

    struct State {
        var listener: (any Channel)?
        var connections: [UInt64: any Channel] = [:]
        var sessions: [UInt64: NIOLoopBound<SMSCSessionHandler>] = [:]
        var next: UInt64 = 1
        var stopped = false
    }

    public init(
        configuration: Configuration,
        delegate: any SMPPServerDelegate,
        logger: Logger,
        clock: @escaping @Sendable () -> Int64
    ) {
        self.configuration = configuration
        self.delegate = delegate
        self.logger = logger
        self.clock = clock
    }

    /// Listens; returns the port (the one the system chose when configured with 0).
    public func start() async throws -> Int {
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            // Bounds what one connection can queue towards a slow reader before it is no longer read.
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 32 * 1024, high: 256 * 1024))
            .childChannelInitializer { channel in self.accept(channel) }
        let ch = try await bootstrap.bind(host: configuration.host, port: configuration.port).get()
        state.withLockedValue { $0.listener = ch }
        return ch.localAddress?.port ?? configuration.port
    }

    func accept(_ channel: any Channel) -> EventLoopFuture<Void> {
        let id: UInt64? = state.withLockedValue { s in
            guard !s.stopped, s.connections.count < configuration.maxConnections else { return nil }
            defer { s.next += 1 }
            s.connections[s.next] = channel
            return s.next
        }
        guard let id else {
            logger.warning(
                "SMPP connection refused: smppServer connections are full",
                metadata: ["max": "\(configuration.maxConnections)"]
            )
            return channel.close()
        }
        channel.closeFuture.whenComplete { _ in
            self.state.withLockedValue {
                $0.connections.removeValue(forKey: id)
                $0.sessions.removeValue(forKey: id)
            }
        }
        return channel.eventLoop.makeCompletedFuture {
            let handler = SMSCSessionHandler(
                configuration: configuration.session,
                delegate: delegate,
                connection: id,
                systemID: configuration.systemID,
                logger: logger,
                clock: clock
            )
            // Before the session: its bind timer starts now and covers the handshake too.
            if let tls = configuration.tls {
                try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
            }
            try channel.pipeline.syncOperations.addHandler(handler)
            let bound = NIOLoopBound(handler, eventLoop: channel.eventLoop)
            state.withLockedValue { $0.sessions[id] = bound }
        }
    }

    /// Sends receipts as deliver_sm on `connection`; false when it is gone. Each is answered through the
    /// delegate's `delivered(connection:token:status:)`, or not at all if the connection goes first.
    public func deliver(connection: UInt64, _ messages: [(token: UInt64, message: ShortMessage)]) -> Bool {
        guard let session = state.withLockedValue({ $0.sessions[connection] }) else { return false }
        session.eventLoop.execute { session.value.deliver(messages) }
        return true
    }

    /// `stop` was called.
    public var isStopped: Bool { state.withLockedValue { $0.stopped } }

    /// Open connections, bound or not.
    public var connections: Int { state.withLockedValue { $0.connections.count } }

    /// Stops listening and closes every connection.
    public func stop() async {
        let (listener, open) = state.withLockedValue { s in
            s.stopped = true
            return (s.listener, Array(s.connections.values))
        }
        try? await listener?.close()
        for channel in open { try? await channel.close() }
    }
}
