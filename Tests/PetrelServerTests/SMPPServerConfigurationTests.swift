import Foundation
import PetrelAPI
import PetrelCore
import PetrelSMPP
import Testing

@testable import PetrelServer

/// `smppServer:` and the pieces of the bind check that need no socket.
@Suite struct SMPPServerConfigurationTests {
    @Test func absentMeansNoServer() throws {
        #expect(try ServerConfiguration.parse(yaml: "").smppServer == nil)
    }

    @Test func readsEveryKey() throws {
        let c = try ServerConfiguration.parse(
            yaml: "smppServer: {listen: '0.0.0.0:2777', maxBinds: 5, idleSeconds: 60, window: 10}"
        )
        var expected = SMPPServerSetting()
        expected.host = "0.0.0.0"
        expected.port = 2777
        expected.maxBinds = 5
        expected.idleSeconds = 60
        expected.window = 10
        #expect(c.smppServer == expected)
        #expect(try ServerConfiguration.parse(yaml: "smppServer: {}").smppServer == SMPPServerSetting())
    }

    @Test(arguments: [
        ("smppServer: {listen: nowhere}", "smppServer.listen must be HOST:PORT"),
        ("smppServer: {maxBinds: 0}", "smppServer.maxBinds"),
        ("smppServer: {window: 100000}", "smppServer.window"),
        ("smppServer: {idleSeconds: 1}", "smppServer.idleSeconds"),
        ("smppServer: {tls: {}}", "smppServer.tls needs certFile and keyFile"),
        ("smppServer: {tls: {certFile: /nonexistent/c.pem}}", "smppServer.tls needs certFile and keyFile"),
        ("smppServer: {tls: {keyFile: /nonexistent/k.pem}}", "smppServer.tls needs certFile and keyFile"),
        ("smppServer: {tls: 3}", "smppServer.tls must be a mapping"),
        (
            "smppServer: {tls: {certFile: /nonexistent/c.pem, keyFile: /nonexistent/k.pem}}",
            "smppServer.tls.certFile: cannot read /nonexistent/c.pem"
        ),
        ("smppServer: 3", "smppServer must be a mapping"),
    ])
    func refusesBadValuesNamingTheKey(yaml: String, message: String) {
        #expect {
            _ = try ServerConfiguration.parse(yaml: yaml)
        } throws: { "\($0)".contains(message) }
    }

    /// Certificates made by `openssl` (as tests/integration/tlscerts.py does): a pair is taken, a missing or wrong
    /// key is refused naming its key.
    @Test func tlsFilesAreCheckedWithTheConfig() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("petrel-smpp-tls-\(UUID())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func make(_ name: String) throws {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = [
                "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", "\(dir)/\(name).key", "-out", "\(dir)/\(name).pem", "-days", "1", "-subj", "/CN=\(name)",
            ]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            p.waitUntilExit()
            try #require(p.terminationStatus == 0)
        }
        try make("a")
        try make("b")
        let good = try ServerConfiguration.parse(
            yaml: "smppServer: {tls: {certFile: '\(dir)/a.pem', keyFile: '\(dir)/a.key'}}"
        )
        #expect(good.smppServer?.tls == .init(certFile: "\(dir)/a.pem", keyFile: "\(dir)/a.key"))
        let refusals = [
            ("\(dir)/a.pem", "\(dir)/b.key", "smppServer.tls.keyFile: \(dir)/b.key is not the private key of"),
            ("\(dir)/a.pem", "\(dir)/none.key", "smppServer.tls.keyFile: cannot read \(dir)/none.key"),
            ("\(dir)/a.pem", "\(dir)/a.pem", "smppServer.tls.keyFile: \(dir)/a.pem holds no PEM private key"),
        ]
        for (cert, key, message) in refusals {
            #expect {
                _ = try ServerConfiguration.parse(yaml: "smppServer: {tls: {certFile: '\(cert)', keyFile: '\(key)'}}")
            } throws: { "\($0)".contains(message) }
        }
    }

    @Test func ipBlocks() throws {
        let block = try #require(IPBlock("10.1.0.0/16"))
        #expect(block.contains("10.1.200.3"))
        #expect(block.contains("::ffff:10.1.0.9"))
        #expect(!block.contains("10.2.0.1"))
        #expect(!block.contains("garbage"))
        #expect(IPBlock("127.0.0.1")?.contains("127.0.0.1") == true)
        #expect(IPBlock("127.0.0.1")?.contains("127.0.0.2") == false)
        #expect(IPBlock("2001:db8::/32")?.contains("2001:db8:1::5") == true)
        #expect(IPBlock("10.0.0.0/33") == nil)
        #expect(IPBlock("10.0.0.0/") == nil)
        #expect(IPBlock("") == nil)
        #expect(IPBlock("10.1.2.3/8")?.description == "10.1.2.3/8")
    }

    @Test func bindBoardKeepsBothLimits() {
        let board = SMPPBindBoard(maxBinds: 3)
        let e = SMPPBindBoard.Entry(systemID: "crm", account: "acme", mode: .transceiver)
        #expect(board.admit(e, connection: 1, userMax: 2) == nil)
        #expect(board.admit(e, connection: 2, userMax: 2) == nil)
        #expect(board.admit(e, connection: 3, userMax: 2) == .userFull(2))
        let other = SMPPBindBoard.Entry(systemID: "bulk", account: "beta", mode: .transmitter)
        #expect(board.admit(other, connection: 4, userMax: nil) == nil)
        #expect(board.admit(other, connection: 5, userMax: nil) == .serverFull)
        #expect(board.perAccount() == ["acme": 2, "beta": 1])
        #expect(board.release(connection: 1) == e)
        #expect(board.release(connection: 1) == nil)
        #expect(board.count(account: "acme") == 1)
        #expect(board.admit(e, connection: 6, userMax: 2) == nil)
    }

    /// The console's view: binds by mode per account, and each account's submissions of the last 60 s.
    @Test func bindBoardCountsModesAndTheLastMinute() {
        let board = SMPPBindBoard(maxBinds: 10)
        let modes: [(UInt64, String, BindMode)] = [
            (1, "acme", .transmitter), (2, "acme", .receiver), (3, "acme", .receiver), (4, "beta", .transceiver),
        ]
        for (c, account, mode) in modes {
            #expect(
                board.admit(.init(systemID: account, account: account, mode: mode), connection: c, userMax: nil) == nil
            )
        }
        for i in 0..<5 { board.noteSubmit(account: "acme", ok: i != 0, nowMs: 100_000 + Int64(i) * 10_000) }
        board.noteSubmit(account: "gone", ok: true, nowMs: 100_000)
        var acme = SMPPBindBoard.AccountView(transmitters: 1, receivers: 2, accepted: 4, refused: 1)
        #expect(board.accounts(nowMs: 150_000)["acme"] == acme)
        #expect(board.accounts(nowMs: 150_000)["beta"] == .init(transceivers: 1))
        #expect(board.accounts(nowMs: 150_000)["gone"] == .init(accepted: 1))
        // 60 s later the first two submissions (at 100 s and 110 s) are out of the minute; "gone" is not shown.
        acme.accepted = 3
        acme.refused = 0
        #expect(board.accounts(nowMs: 170_500)["acme"] == acme)
        #expect(board.accounts(nowMs: 170_500)["gone"] == nil)
        _ = board.release(connection: 4)
        #expect(board.accounts(nowMs: 170_500)["beta"] == nil)
    }

    @Test func passwordsCompareWhole() {
        #expect(SMPPDoor.same("secret", "secret"))
        #expect(!SMPPDoor.same("secret", "secre"))
        #expect(!SMPPDoor.same("secret", "secret1"))
        #expect(!SMPPDoor.same("", "x"))
    }

    /// The one table from the API's answers to SMPP statuses.
    @Test func refusalsMapToSMPPStatuses() {
        let cases: [(String, CommandStatus)] = [
            (ResponseCode.ok.code, .ok),
            (ResponseCode.mobileNumberIllegal.code, .invalidDestinationAddress),
            (ResponseCode.notSupportedCountry.code, .invalidDestinationAddress),
            (ResponseCode.blackKeyControlLimit.code, .invalidDestinationAddress),
            (ResponseCode.invalidSenderID.code, .invalidSourceAddress),
            (ResponseCode.paramLengthLimit.code, .invalidMessageLength),
            (ResponseCode.businessLimitMinute.code, .throttled),
            (ResponseCode.businessLimitDay.code, .throttled),
            (ResponseCode.outOfService.code, .throttled),
            (APIError.throttled(retryAfterMs: 5).code, .throttled),
            (APIError.internalError.code, .systemError),
            (ResponseCode.invalidParameters.code, .submitFailed),
            ("SOMETHING_NEW", .submitFailed),
        ]
        for (code, status) in cases {
            #expect(SMPPDoor.status(forCode: code) == status, "\(code)")
        }
    }
}
