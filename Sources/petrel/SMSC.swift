import ArgumentParser
import Foundation
import Logging
import NIOCore
import PetrelDelivery
import PetrelSMPP
import ServiceLifecycle
import UnixSignals

struct SMSC: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "smsc",
        abstract: "Run an SMPP 3.4 SMSC simulator that any ESME can bind to.",
        discussion: """
            It accepts binds (with --system-id / --password, or any credentials without them), answers submit_sm
            and sends delivery receipts (text and TLVs) after --receipt-delay-ms. The destination's last digits
            pick what happens:
            \(SMSCBehaviour.table.map { "  …\($0.ending)  \($0.meaning)" }.joined(separator: "\n"))
              other  accepted, then receipt stat:DELIVRD
            """
    )

    @Option(help: "Address to listen on, HOST:PORT.") var listen = "127.0.0.1:2775"
    @Option(name: .customLong("system-id"), help: "The system_id binds must present.") var systemID: String?
    @Option(help: "The password binds must present.") var password: String?
    @Option(name: .customLong("receipt-delay-ms"), help: "Delay before a delivery receipt.") var receiptDelayMs: Int64 =
        100
    @Flag(
        name: .customLong("hex-ids"),
        help: "Answer submit_sm with hex ids (leading zeros) and quote them in decimal in receipts."
    )
    var hexIDs = false
    @Flag(help: "Ignore the magic endings: accept and deliver everything (a plain sink for benchmarks).") var noFaults =
        false
    @Option(help: "Rewrite this file with JSON counters every second.") var summary: String?
    @Option(name: .customLong("mo-from"), help: "Send mobile-originated messages from this phone (with --mo-text).")
    var moFrom: String?
    @Option(name: .customLong("mo-to"), help: "The number they are sent to.") var moTo = "85260001234"
    @Option(name: .customLong("mo-text"), help: "Their text; {n} becomes each message's number. Long: several parts.")
    var moText: String?
    @Option(name: .customLong("mo-every"), help: "Milliseconds between rounds of mobile-originated messages.")
    var moEvery: Int64 = 1000
    @Option(name: .customLong("mo-burst"), help: "Messages per round.") var moBurst = 1
    @Option(
        name: .customLong("tls-cert"),
        help: "Take binds over TLS with this PEM certificate (chain) (with --tls-key)."
    )
    var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: "The PEM private key of --tls-cert.") var tlsKey: String?

    func run() async throws {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]) else {
            throw CLIError(description: "--listen must be HOST:PORT")
        }
        var c = SMSCServer.Configuration()
        c.host = String(listen[..<colon])
        c.port = port
        c.systemID = systemID
        c.password = password
        c.receiptDelayMs = receiptDelayMs
        c.hexIDs = hexIDs
        c.faults = !noFaults
        if moFrom != nil || moText != nil {
            guard let moFrom, let moText, !moFrom.isEmpty else {
                throw CLIError(description: "--mo-from and --mo-text go together")
            }
            guard (1...3_600_000).contains(moEvery), (1...100_000).contains(moBurst) else {
                throw CLIError(description: "--mo-every must be 1 to 3600000 ms and --mo-burst 1 to 100000")
            }
            c.originate = .init(from: moFrom, to: moTo, text: moText, everyMs: moEvery, burst: moBurst)
        }
        if tlsCert != nil || tlsKey != nil {
            guard let tlsCert, let tlsKey else { throw CLIError(description: "--tls-cert and --tls-key go together") }
            let files = TLSSettings(certFile: tlsCert, keyFile: tlsKey)
            if let problem = files.problem(key: "--tls") {
                throw CLIError(
                    description: problem.replacingOccurrences(of: "--tls.certFile", with: "--tls-cert")
                        .replacingOccurrences(of: "--tls.keyFile", with: "--tls-key")
                )
            }
            do {
                c.tls = try SMSCServer.tlsContext(certFile: tlsCert, keyFile: tlsKey)
            } catch {
                throw CLIError(description: "--tls-cert and --tls-key cannot be used together: \(error)")
            }
        }
        let server = SMSCServer(configuration: c, logger: Logger(label: "petrel-smsc"))
        let bound: Int
        do {
            bound = try await server.start()
        } catch let error as IOError {
            throw CLIError(description: NetworkErrorText.listening(error, host: c.host, port: port))
        }
        print("Petrel SMSC listening on \(c.host):\(bound)\(c.tls == nil ? "" : " (TLS)")")
        fflush(nil)
        let service = SMSCService(server: server, summary: summary)
        let group = ServiceGroup(
            configuration: .init(
                services: [service],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: Logger(label: "petrel-smsc")
            )
        )
        try await group.run()
    }
}

struct SMSCService: Service {
    let server: SMSCServer
    let summary: String?

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                write()
                try? await Task.sleep(for: .seconds(1))
            }
        }
        write()
        try? await server.stop()
    }

    func write() {
        guard let summary else { return }
        let c = server.counters
        let json = """
            {"binds":\(c.binds),"bindsRefused":\(c.bindsRefused),"submit_sm":\(c.submits),"accepted":\(c.accepted),\
            "rejected":\(c.rejected),"concat_parts":\(c.parts),"receipts_sent":\(c.receiptsSent),"dlr_acked":\(c.receiptsAcked),"duplicates":\(c.duplicates),"receipts_resent":\(c.receiptsResent),\
            "sessions":\(c.sessions),"max_sessions":\(c.maxSessions),"mo_messages":\(c.moMessages),"mo_parts":\(c.moParts),"mo_acked":\(c.moAcked),"first_submit_ts":\(c.firstSubmitMs.map { String(Double($0) / 1000) } ?? "null"),\
            "last_submit_ts":\(c.lastSubmitMs.map { String(Double($0) / 1000) } ?? "null")}
            """
        try? json.write(toFile: summary, atomically: true, encoding: .utf8)
    }
}
