import Foundation
public import NIOSSL

/// TLS of an outbound link (a receipt URL, an SMPP channel): whom to trust, which name to expect, which client
/// certificate to show. The host name (or `serverName`) is always verified against the peer's certificate.
public struct TLSSettings: Sendable, Hashable {
    /// PEM file of the CA certificates to trust instead of the system's trust store.
    public var caFile: String?
    /// The name the peer's certificate must carry (and the SNI sent), when not the host connected to.
    public var serverName: String?
    /// PEM client certificate (chain) and its private key, for peers that ask for one.
    public var certFile: String?
    public var keyFile: String?

    public init(caFile: String? = nil, serverName: String? = nil, certFile: String? = nil, keyFile: String? = nil) {
        self.caFile = caFile
        self.serverName = serverName
        self.certFile = certFile
        self.keyFile = keyFile
    }

    /// Reads the client certificate and key now; the CA file is read when a TLS context is made from this.
    public func clientConfiguration() throws -> TLSConfiguration {
        var c = TLSConfiguration.makeClientConfiguration()
        c.certificateVerification = .fullVerification
        if let caFile { c.trustRoots = .file(caFile) }
        if let certFile { c.certificateChain = try NIOSSLCertificate.fromPEMFile(certFile).map { .certificate($0) } }
        if let keyFile { c.privateKey = .privateKey(try NIOSSLPrivateKey(file: keyFile, format: .pem)) }
        return c
    }

    /// Why these files cannot be used (for config errors), else nil. `key` names the settings in the sentence.
    public func problem(key: String) -> String? {
        if (certFile == nil) != (keyFile == nil) {
            return "\(key).certFile and \(key).keyFile go together (a client certificate and its private key)"
        }
        if let caFile {
            guard FileManager.default.isReadableFile(atPath: caFile) else {
                return "\(key).caFile: cannot read \(caFile)"
            }
            guard let certs = try? NIOSSLCertificate.fromPEMFile(caFile), !certs.isEmpty else {
                return "\(key).caFile: \(caFile) holds no PEM certificate"
            }
        }
        if let certFile, let keyFile {
            guard FileManager.default.isReadableFile(atPath: certFile) else {
                return "\(key).certFile: cannot read \(certFile)"
            }
            guard let certs = try? NIOSSLCertificate.fromPEMFile(certFile), !certs.isEmpty else {
                return "\(key).certFile: \(certFile) holds no PEM certificate"
            }
            guard FileManager.default.isReadableFile(atPath: keyFile) else {
                return "\(key).keyFile: cannot read \(keyFile)"
            }
            guard (try? NIOSSLPrivateKey(file: keyFile, format: .pem)) != nil else {
                return "\(key).keyFile: \(keyFile) holds no PEM private key (or it is encrypted)"
            }
        }
        if let serverName, serverName.isEmpty || serverName.utf8.count > 253 || serverName.contains(" ") {
            return "\(key).serverName must be a host name"
        }
        return nil
    }
}

/// What a TLS failure means, in a sentence for people (parked pushes, channel states).
public enum TLSErrorText {
    static let hostNameMismatch = "TLS: host name mismatch"
    static let notTrusted = "TLS: certificate not trusted"

    /// nil when `error` is not a TLS error. `host` is the name the certificate had to carry.
    public static func describe(_ error: any Error, host: String, peer: String) -> String? {
        if let e = error as? NIOSSLExtraError, e == .failedToValidateHostname {
            return "\(hostNameMismatch): the certificate of \(peer) is not for \(host)"
        }
        guard let e = error as? NIOSSLError else { return nil }
        switch e {
        case .handshakeFailed(let inner):
            let codes = "\(inner)"
            if codes.contains("CERTIFICATE_VERIFY_FAILED") {
                return "\(notTrusted): the certificate of \(peer) is not signed by a trusted CA "
                    + "(or has expired); give its CA as caFile"
            }
            if codes.contains("WRONG_VERSION_NUMBER") || codes.contains("RECORD_LENGTH_MISMATCH") {
                return "TLS: \(peer) does not speak TLS on that port (plain TCP?)"
            }
            if codes.contains("CERTIFICATE_REQUIRED") || codes.contains("ALERT_HANDSHAKE_FAILURE")
                || codes.contains("ALERT_BAD_CERTIFICATE") || codes.contains("ALERT_UNKNOWN_CA")
            {
                return "TLS: \(peer) refused the handshake (does it want a client certificate, certFile/keyFile?)"
            }
            return "TLS: the handshake with \(peer) failed (\(reasons(inner)))"
        case .failedToLoadCertificate, .noSuchFilesystemObject:
            return "TLS: cannot load a certificate file (caFile or certFile)"
        case .failedToLoadPrivateKey:
            return "TLS: cannot load the private key file (keyFile)"
        case .uncleanShutdown:
            return "TLS: \(peer) closed the connection without a TLS close"
        default:
            return "TLS: \(e)"
        }
    }

    /// BoringSSL's reason words ("CERTIFICATE_VERIFY_FAILED"), without file names and line numbers.
    static func reasons(_ error: BoringSSLError) -> String {
        let text = "\(error)"
        let words = text.split(whereSeparator: { !$0.isLetter && !$0.isNumber && $0 != "_" })
            .filter { $0.count > 3 && $0.allSatisfy { $0.isUppercase || $0.isNumber || $0 == "_" } && $0.contains("_") }
        return words.isEmpty ? text : words.joined(separator: ", ")
    }
}

/// The kind of an SMPP channel's last link failure, for the `petrel_smpp_channel_problem` gauge; the sentence is
/// in the channel's last error.
public enum LinkProblem: String, CaseIterable, Sendable {
    case none
    case tlsNotTrusted = "tls_certificate_not_trusted"
    case tlsHostName = "tls_host_name_mismatch"
    case tls = "tls_handshake_failed"
    case connectFailed = "connect_failed"
    case bindRefused = "bind_refused"
    case sessionClosed = "session_closed"

    /// From a connect failure's or a close's reason.
    static func of(_ reason: String, connecting: Bool) -> LinkProblem {
        if reason.hasPrefix(TLSErrorText.hostNameMismatch) { return .tlsHostName }
        if reason.hasPrefix(TLSErrorText.notTrusted) { return .tlsNotTrusted }
        if reason.hasPrefix("TLS: ") { return .tls }
        if reason.hasPrefix("bind refused") || reason.hasPrefix("bind answered") { return .bindRefused }
        return connecting ? .connectFailed : .sessionClosed
    }
}
