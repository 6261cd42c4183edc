import ArgumentParser
import Foundation

@main
struct Petrel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "petrel",
        abstract: "A self-hosted SMS gateway that speaks Alibaba Cloud's international SMS API.",
        subcommands: [Serve.self, Keys.self, Templates.self, Bench.self])
}

/// `--data-dir`, shared by every command that opens the store.
struct DataDirOption: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "Data directory (default $PETREL_DATA_DIR or ./petrel-data).")
    var dataDir: String?

    var path: String {
        dataDir ?? ProcessInfo.processInfo.environment["PETREL_DATA_DIR"] ?? "./petrel-data"
    }
}

struct CLIError: Error, CustomStringConvertible {
    let description: String
}

func nowMs() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }
