import Logging
import NIOCore
import PetrelSMPP
import PetrelStore

/// What Petrel's SMPP server asks of the rest of Petrel: binds are checked against `petrel smpp-users` (sealed
/// passwords, enabled, allowed addresses) and admitted under the bind limits.
final class SMPPDoor: SMPPServerDelegate {
    let store: any SMPPUserStore
    let board: SMPPBindBoard
    let logger: Logger

    init(store: any SMPPUserStore, board: SMPPBindBoard, logger: Logger) {
        self.store = store
        self.board = board
        self.logger = logger
    }

    func bind(_ bind: Bind, remote: SocketAddress?, connection: UInt64) async -> CommandStatus {
        let user: SMPPUserRecord?
        do {
            user = try await store.smppUser(systemID: bind.systemID)
        } catch {
            logger.error("SMPP bind: cannot read the SMPP users", metadata: ["error": "\(error)"])
            return .systemError
        }
        // One answer for an unknown system_id, a wrong password and a disabled user: a bind is no oracle for which.
        guard let user, user.enabled, Self.same(user.password, bind.password) else {
            refused(bind, remote, "wrong credentials or disabled")
            return .bindFailed
        }
        if !user.allowIP.isEmpty {
            let address = remote?.ipAddress ?? ""
            guard user.allowIP.contains(where: { IPBlock($0)?.contains(address) == true }) else {
                refused(bind, remote, "address not in --allow-ip")
                return .bindFailed
            }
        }
        let entry = SMPPBindBoard.Entry(
            systemID: user.systemID,
            account: user.account,
            canReceive: bind.mode.canReceive
        )
        switch board.admit(entry, connection: connection, userMax: user.maxBinds) {
        case nil:
            logger.info(
                "SMPP bound",
                metadata: ["systemId": "\(user.systemID)", "account": "\(user.account)", "mode": "\(bind.mode)"]
            )
            return .ok
        case .serverFull:
            refused(bind, remote, "smppServer.maxBinds (\(board.maxBinds)) reached")
            return .bindFailed
        case .userFull(let max):
            refused(bind, remote, "its --max-binds (\(max)) reached")
            return .alreadyBound
        }
    }

    func refused(_ bind: Bind, _ remote: SocketAddress?, _ why: String) {
        logger.notice(
            "SMPP bind refused",
            metadata: ["systemId": "\(bind.systemID)", "remote": "\(remote?.ipAddress ?? "?")", "reason": "\(why)"]
        )
    }

    /// Compares without stopping at the first difference, so the time taken does not tell how much was right.
    static func same(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        var diff = UInt8(x.count == y.count ? 0 : 1)
        for i in 0..<max(x.count, y.count) {
            diff |= (i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0)
        }
        return diff == 0
    }

    func unbound(connection: UInt64) {
        board.release(connection: connection)
    }

    func submit(_ message: ShortMessage, connection: UInt64) async -> (status: CommandStatus, messageID: String) {
        // Accepting messages arrives with the next step (issue 29, submit_sm → durable accept).
        (.submitFailed, "")
    }
}
