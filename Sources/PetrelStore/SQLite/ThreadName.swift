import Foundation

/// Names the calling thread (as `top` and `perf` show it). Linux threads otherwise inherit their creator's name.
enum ThreadName {
    static func set(_ name: String) {
        #if os(Linux)
        try? String(name.prefix(15)).write(toFile: "/proc/thread-self/comm", atomically: false, encoding: .utf8)
        #endif
    }
}
