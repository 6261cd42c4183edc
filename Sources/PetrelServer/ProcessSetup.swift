import Foundation
import NIOCore
import NIOPosix

/// What the `petrel` and `petrel-bench` processes do before anything else, in one place so that the benchmarks'
/// in-process scenarios run the gateway and the store the way `petrel serve` does.
public enum ProcessSetup {
    public static func prepare() {
        // Everything Petrel writes (the store, its log, the master key, locks) is for the service's user alone.
        umask(0o077)
        // Swift concurrency runs on NIO's event loops, so a request's task and its socket share a thread instead of
        // hopping between two pools on every read and write (on two cores those hops dominate the cost).
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
    }
}
