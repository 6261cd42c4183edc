import Logging
import NIOCore
import PetrelAPI
import PetrelCore
import PetrelSMPP
import PetrelStore

/// What Petrel's SMPP server asks of the rest of Petrel: binds are checked against `petrel smpp-users` (sealed
/// passwords, enabled, allowed addresses) and admitted under the bind limits; messages go through the gateway's
/// own send path (SendMessageToGlobe's validation, limits and durable accept) for the system_id's account.
final class SMPPDoor: SMPPServerDelegate {
    let store: any SMPPUserStore & SMPPReceiptOutbox
    let board: SMPPBindBoard
    let gateway: Gateway
    let logger: Logger
    let clock: @Sendable () -> Int64
    let receipts: SMPPReceiptPusher

    init(
        store: any SMPPUserStore & SMPPReceiptOutbox,
        board: SMPPBindBoard,
        gateway: Gateway,
        receipts: SMPPReceiptPusher,
        logger: Logger,
        clock: @escaping @Sendable () -> Int64
    ) {
        self.store = store
        self.board = board
        self.gateway = gateway
        self.receipts = receipts
        self.logger = logger
        self.clock = clock
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
            mode: bind.mode,
            tps: user.tps
        )
        switch board.admit(entry, connection: connection, userMax: user.maxBinds) {
        case nil:
            ServerMetrics.smppBinds(account: user.account, board.count(account: user.account))
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
        receipts.unbound(connection: connection)
        guard let entry = board.release(connection: connection) else { return }
        ServerMetrics.smppBinds(account: entry.account, board.count(account: entry.account))
    }

    func submit(_ s: Submission, connection: UInt64) async -> (status: CommandStatus, messageID: String) {
        let answer = await accept(s, connection: connection)
        ServerMetrics.smppSubmit(status: answer.status.name)
        if let entry = board.entry(connection: connection) {
            board.noteSubmit(account: entry.account, ok: answer.status == .ok, nowMs: clock())
        }
        return answer
    }

    func accept(_ s: Submission, connection: UInt64) async -> (status: CommandStatus, messageID: String) {
        guard let entry = board.entry(connection: connection) else { return (.incorrectBindStatus, "") }
        let nowMs = clock()
        guard board.take(entry, nowMs: nowMs) else { return (.throttled, "") }
        // Bytes that are no text in their data_coding (or an empty message) are refused, never stored as hex.
        guard s.encoding != "hex" else { return (.submitFailed, "") }
        guard !s.text.isEmpty else { return (.invalidMessageLength, "") }
        var parameters = [("To", s.to), ("Message", s.text), ("TaskId", "smpp:\(entry.systemID)")]
        if !s.from.isEmpty { parameters.append(("From", s.from)) }
        do {
            let prepared = try await gateway.prepare(
                action: SendMessageToGlobe.name,
                account: entry.account,
                parameters: parameters,
                nowMs: nowMs
            )
            guard Self.code(prepared.fields) == ResponseCode.ok.code else {
                return (Self.status(forCode: Self.code(prepared.fields)), "")
            }
            let fields = try await gateway.accept(prepared)
            let code = Self.code(fields)
            guard code == ResponseCode.ok.code, case .string(let id)? = fields.first(where: { $0.0 == "MessageId" })?.1
            else { return (Self.status(forCode: code), "") }
            // registered_delivery bits 0-1: 1 (or the reserved 3) every final state, 2 failures only. The row is
            // written before the ESME learns the id: an id it holds always gets its receipt.
            let wanted = s.registeredDelivery & 0x03
            if wanted != 0, let number = Int64(id) {
                try await store.requestSMPPReceipts([
                    SMPPReceiptRequest(messageID: number, account: entry.account, failuresOnly: wanted == 2)
                ])
            }
            return (.ok, id)
        } catch let error as APIError {
            return (Self.status(forCode: error.code), "")
        } catch {
            logger.error("SMPP submit: the message could not be stored", metadata: ["error": "\(error)"])
            return (.systemError, "")
        }
    }

    func delivered(connection: UInt64, token: UInt64, status: CommandStatus) {
        receipts.delivered(connection: connection, token: token, status: status)
    }

    static func code(_ fields: [(String, ResponseValue)]) -> String {
        guard case .string(let code)? = fields.first(where: { $0.0 == "ResponseCode" })?.1 else { return "" }
        return code
    }

    /// What the API answers, as SMPP says it: one table, the only place the two meet.
    static let statusByCode: [String: CommandStatus] = [
        ResponseCode.ok.code: .ok,
        ResponseCode.mobileNumberIllegal.code: .invalidDestinationAddress,
        ResponseCode.notSupportedCountry.code: .invalidDestinationAddress,
        ResponseCode.blackKeyControlLimit.code: .invalidDestinationAddress,
        ResponseCode.invalidSenderID.code: .invalidSourceAddress,
        ResponseCode.paramLengthLimit.code: .invalidMessageLength,
        ResponseCode.businessLimitMinute.code: .throttled,
        ResponseCode.businessLimitHour.code: .throttled,
        ResponseCode.businessLimitDay.code: .throttled,
        // Caps and pumping-guard halts: the account may send again later.
        ResponseCode.outOfService.code: .throttled,
        APIError.throttled(retryAfterMs: 0).code: .throttled,
        APIError.internalError.code: .systemError,
    ]

    /// Anything else the send path refuses is the message's own fault: ESME_RSUBMITFAIL.
    static func status(forCode code: String) -> CommandStatus {
        statusByCode[code] ?? .submitFailed
    }
}
