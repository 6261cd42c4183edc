import Foundation
public import NIOCore
import NIOPosix

/// What a network error means, said in a sentence for people (the CLI, the console's channel states, parked
/// receipts, info-level logs). The library's own text ("NIOConnectionError(…errno: 111)") goes to debug logs only.
public enum NetworkErrorText {
    /// Why connecting to `host:port` failed; `peer` names what was there ("the SMSC", "the receiver").
    public static func connecting(_ error: any Error, host: String, port: Int, peer: String) -> String {
        let target = "\(host):\(port)"
        if let e = error as? NIOConnectionError {
            if e.connectionErrors.isEmpty, e.dnsAError != nil || e.dnsAAAAError != nil {
                return "cannot resolve the host name \(host)"
            }
            if let first = e.connectionErrors.first?.error {
                return connecting(first, host: host, port: port, peer: peer)
            }
        }
        if case ChannelError.connectTimeout(let t) = error {
            return "no answer from \(target) within \(t.nanoseconds / 1_000_000_000) s (firewall, or wrong host?)"
        }
        guard let code = errnoCode(error) else { return "cannot connect to \(target)" }
        switch code {
        case ECONNREFUSED: return "\(peer) refused the connection at \(target) (nothing listens on that port?)"
        case ETIMEDOUT: return "no answer from \(target) (firewall, or wrong host?)"
        case EHOSTUNREACH, ENETUNREACH: return "\(target) is unreachable from this machine (no route)"
        case ECONNRESET, EPIPE: return "\(peer) at \(target) closed the connection"
        default: return "cannot connect to \(target): \(String(cString: strerror(code)))"
        }
    }

    /// Why listening on `host:port` failed.
    public static func listening(_ error: any Error, host: String, port: Int, flag: String = "--listen") -> String {
        let target = "\(host):\(port)"
        if case SocketAddressError.unknown = error { return "cannot listen on \(target): no such host name" }
        guard let code = errnoCode(error) else { return "cannot listen on \(target)" }
        switch code {
        case EADDRINUSE:
            return
                "cannot listen on \(target): the port is in use (another petrel, or another program); choose another with \(flag)"
        case EADDRNOTAVAIL: return "cannot listen on \(target): this machine has no such address"
        case EACCES: return "cannot listen on \(target): permission denied (ports below 1024 need privileges)"
        default: return "cannot listen on \(target): \(String(cString: strerror(code)))"
        }
    }

    static func errnoCode(_ error: any Error) -> CInt? {
        if let e = error as? IOError { return e.errnoCode }
        return nil
    }
}
