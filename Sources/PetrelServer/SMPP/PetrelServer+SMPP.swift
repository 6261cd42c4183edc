import Foundation
import Logging
import NIOConcurrencyHelpers
import PetrelAPI
import PetrelSMPP
import PetrelStore

extension PetrelServer {
    /// Starts `smppServer:` when configured, and says where it listens (before the HTTP door's line, which
    /// scripts wait for).
    static func startSMPPServer(
        _ c: ServerConfiguration,
        watch: SMPPServerWatch?,
        store: any MessageStore,
        gateway: Gateway,
        logger: Logger,
        clock: @escaping @Sendable () -> Int64
    ) async throws -> SMPPServer? {
        guard let setting = c.smppServer, let watch else { return nil }
        let board = watch.board
        let receipts = SMPPReceiptPusher(
            store: store,
            board: board,
            settings: .init(window: setting.server.session.window),
            logger: logger,
            clock: clock
        )
        let door = SMPPDoor(
            store: store,
            board: board,
            gateway: gateway,
            receipts: receipts,
            logger: logger,
            clock: clock
        )
        var configuration = setting.server
        // Read again now: the files were checked with the config, but may have changed since.
        try setting.tls?.configure(&configuration, key: "smppServer.tls")
        let server = SMPPServer(configuration: configuration, delegate: door, logger: logger, clock: clock)
        receipts.attach(server)
        let host = setting.host.contains(":") ? "[\(setting.host)]" : setting.host
        let port: Int
        do {
            port = try await server.start()
        } catch {
            throw ServerConfiguration.Failure(
                description: "smppServer.listen: cannot listen on \(host):\(setting.port): \(error)"
            )
        }
        watch.listening(on: "\(host):\(port)")
        // Ends when the server stops; a receipt unanswered then is sent again after its lease.
        Task { await receipts.run() }
        print("SMPP server listening on \(host):\(port)\(setting.tls == nil ? "" : " (TLS)")")
        fflush(nil)
        return server
    }
}

/// What the console reads of the SMPP server: this node's binds and rates (its board), and where it listens.
final class SMPPServerWatch: Sendable {
    let board: SMPPBindBoard
    let tls: Bool
    private let address: NIOLockedValueBox<String>

    init(_ setting: SMPPServerSetting) {
        board = SMPPBindBoard(maxBinds: setting.maxBinds)
        tls = setting.tls != nil
        let host = setting.host.contains(":") ? "[\(setting.host)]" : setting.host
        address = NIOLockedValueBox("\(host):\(setting.port)")
    }

    /// HOST:PORT it listens on (the port chosen by the system once it does, for port 0).
    var listen: String { address.withLockedValue { $0 } }

    func listening(on hostPort: String) {
        address.withLockedValue { $0 = hostPort }
    }
}
