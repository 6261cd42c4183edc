import Logging
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// The cap on open HTTP connections as it applies to this process.
enum ConnectionLimit {
    /// Descriptors kept for everything else (store files, carriers, receipt pushes, the listener).
    static let reserve = 256

    /// `configured`, lowered (with a warning) so that open connections cannot use up the descriptors the store
    /// needs: running out made SQLite fail.
    static func effective(_ configured: Int, logger: Logger) -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < UInt(Int.max) else {
            return configured
        }
        let available = Int(clamping: limit.rlim_cur) - reserve
        guard configured > available else { return configured }
        let lowered = max(available, 16)
        logger.warning(
            "http.maxConnections lowered to fit the open-files limit",
            metadata: ["configured": "\(configured)", "effective": "\(lowered)", "RLIMIT_NOFILE": "\(limit.rlim_cur)"]
        )
        return lowered
    }
}

/// On the listening channel: logs accept failures such as EMFILE / ENFILE (out of descriptors) and passes them on
/// to NIO's `AcceptBackoffHandler`, which pauses accepting for a moment; existing connections are served meanwhile.
final class AcceptErrorLogger: ChannelInboundHandler {
    typealias InboundIn = Any
    let logger: Logger

    init(logger: Logger) {
        self.logger = logger
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.error("accepting a connection failed; backing off", metadata: ["error": "\(error)"])
        context.fireErrorCaught(error)
    }
}
