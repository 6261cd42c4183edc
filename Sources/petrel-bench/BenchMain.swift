import ArgumentParser
import Foundation
import PetrelServer

/// `petrel-bench`: the benchmarks, in a binary of their own so that the shipped `petrel` does not carry them.
/// The servers and `petrel smsc` it starts are the real `petrel` binary (by default the one beside this one).
@main
enum Main {
    /// As `petrel` starts (NIO's event loops as the concurrency executor), so that the load client's tasks share
    /// threads with its sockets and the in-process scenarios run as `petrel serve` does.
    static func main() {
        ProcessSetup.prepare()
        Task {
            await Bench.main()
            exit(0)
        }
        dispatchMain()
    }
}

struct CLIError: Error, CustomStringConvertible {
    let description: String
}

/// The `petrel` binary that started servers and `petrel smsc` run.
enum PetrelBinary {
    /// `path` if given, else `petrel` in the directory of this executable (`swift build` puts both there).
    static func resolve(_ path: String?) throws -> String {
        let found =
            path
            ?? URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("petrel").path
        guard FileManager.default.isExecutableFile(atPath: found) else {
            throw CLIError(
                description:
                    "no petrel binary at \(found): build it (swift build --product petrel) or pass --petrel PATH"
            )
        }
        return found
    }
}
