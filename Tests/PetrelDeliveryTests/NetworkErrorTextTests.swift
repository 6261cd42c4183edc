import NIOCore
import NIOSSL
import Testing

@testable import PetrelDelivery

#if canImport(Glibc)
import Glibc
#endif

/// Network errors reach people as sentences naming the place, not as the library's own text.
@Suite struct NetworkErrorTextTests {
    @Test func connectFailuresSaySoInASentence() {
        let refused = IOError(errnoCode: ECONNREFUSED, reason: "connect")
        #expect(
            NetworkErrorText.connecting(refused, host: "10.0.0.5", port: 2775, peer: "the SMSC")
                == "the SMSC refused the connection at 10.0.0.5:2775 (nothing listens on that port?)"
        )
        let timeout = NetworkErrorText.connecting(
            ChannelError.connectTimeout(.seconds(5)),
            host: "smsc.example",
            port: 2775,
            peer: "the SMSC"
        )
        #expect(timeout == "no answer from smsc.example:2775 within 5 s (firewall, or wrong host?)")
        let other = NetworkErrorText.connecting(
            IOError(errnoCode: EHOSTUNREACH, reason: "connect"),
            host: "h",
            port: 1,
            peer: "the receiver"
        )
        #expect(other == "h:1 is unreachable from this machine (no route)")
        #expect(!other.contains("errno"))
    }

    @Test func listenFailuresNameThePortAndTheFlag() {
        let inUse = NetworkErrorText.listening(
            IOError(errnoCode: EADDRINUSE, reason: "bind"),
            host: "127.0.0.1",
            port: 8080
        )
        #expect(inUse.hasPrefix("cannot listen on 127.0.0.1:8080: the port is in use") && inUse.contains("--listen"))
        let denied = NetworkErrorText.listening(IOError(errnoCode: EACCES, reason: "bind"), host: "0.0.0.0", port: 80)
        #expect(denied.contains("permission denied"))
    }

    @Test func tlsFailuresSayWhatIsWrong() {
        let mismatch = TLSErrorText.describe(
            NIOSSLExtraError.failedToValidateHostname,
            host: "smsc.a",
            peer: "the SMSC"
        )
        #expect(mismatch == "TLS: host name mismatch: the certificate of the SMSC is not for smsc.a")
        let other = TLSErrorText.describe(NIOSSLError.handshakeFailed(.sslError([])), host: "h", peer: "the receiver")
        #expect(other?.hasPrefix("TLS: the handshake with the receiver failed") == true)
        #expect(TLSErrorText.describe(IOError(errnoCode: ECONNREFUSED, reason: "connect"), host: "h", peer: "x") == nil)
        #expect(TLSSettings(certFile: "/c.pem").problem(key: "receipts.tls")?.contains("go together") == true)
        #expect(
            TLSSettings(caFile: "/nonexistent/ca.pem").problem(key: "k") == "k.caFile: cannot read /nonexistent/ca.pem"
        )
    }
}
