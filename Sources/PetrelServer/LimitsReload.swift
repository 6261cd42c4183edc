import Logging
import PetrelCore
import ServiceLifecycle
import Synchronization
import UnixSignals

/// `limits:` as the accept path, the console and `CapWatch` see them now. A reload swaps them whole, so a send is
/// checked against the old limits or the new ones, never a mix.
final class LimitsHolder: Sendable {
    private struct Current: Sendable {
        var lookup: @Sendable (String) -> SendLimits?
        var caps: [SendCap]
        var guards: [PumpingGuard]
    }

    private let current: Mutex<Current>

    init(_ c: ServerConfiguration) {
        current = Mutex(Current(lookup: c.sendLimitsLookup(), caps: c.limits.caps, guards: c.pumpingGuards))
    }

    /// The account's limits (nil when none): asked on every send.
    func limits(account: String) -> SendLimits? { current.withLock { $0.lookup }(account) }

    /// Every account's `limits.caps`.
    var caps: [SendCap] { current.withLock { $0.caps } }

    /// The distinct `limits.pumpingGuard`s in force (top level and accounts').
    var guards: [PumpingGuard] { current.withLock { $0.guards } }

    func replace(with c: ServerConfiguration) {
        let next = Current(lookup: c.sendLimitsLookup(), caps: c.limits.caps, guards: c.pumpingGuards)
        current.withLock { $0 = next }
    }
}

/// On SIGHUP, re-reads the config file and swaps in its `limits:` (`LimitsReloader`).
struct LimitsReload: Service {
    let reloader: LimitsReloader
    let hangups: UnixSignalsSequence

    func run() async throws {
        await cancelWhenGracefulShutdown {
            for await _ in hangups { reloader.reload() }
        }
    }
}

/// Re-reads the config file and swaps in its `limits:` (top level and each account's). A file that does not load
/// (unreadable, or a bad key anywhere in it) logs one error naming the key and keeps the limits in force. Nothing
/// else reloads: every other key takes a restart.
struct LimitsReloader: Sendable {
    /// `--config`; nil: the server runs on defaults and there is nothing to re-read.
    let path: String?
    let holder: LimitsHolder
    let logger: Logger

    /// Returns whether the limits were replaced.
    @discardableResult
    func reload() -> Bool {
        guard let path else {
            logger.warning("SIGHUP: the server was started without --config; there are no limits to reload")
            return false
        }
        do {
            holder.replace(with: try ServerConfiguration.load(path: path))
            logger.notice("SIGHUP: limits reloaded from \(path) (other keys take a restart)")
            return true
        } catch {
            logger.error("SIGHUP: the limits in force are kept: \(path) does not load: \(error)")
            return false
        }
    }
}
