import ArgumentParser
import Foundation
import PetrelServer

@main
enum Main {
    static func main() {
        ProcessSetup.prepare()
        Task {
            await Petrel.main()
            exit(0)
        }
        dispatchMain()
    }
}

struct Petrel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "petrel",
        abstract: "A self-hosted SMS gateway that speaks Alibaba Cloud's international SMS API.",
        version: PetrelVersion.current,
        subcommands: [
            Serve.self, Keys.self, AccountsCommand.self, MessagesCommand.self, Templates.self, Signs.self,
            ReceiptsCommand.self,
            ConfigCommand.self, SMSC.self, CampaignCommand.self, BackupCommand.self, RestoreCommand.self,
            PurgeCommand.self, LimitsCommand.self, InboundCommand.self, OptOutCommand.self, SMPPUsersCommand.self,
            BenchMoved.self,
        ]
    )
}

/// `--data-dir` and `--store`, shared by every command that opens the store.
struct DataDirOption: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "Data directory (default $PETREL_DATA_DIR or ./petrel-data).")
    var dataDir: String?

    @Option(
        name: .customLong("store"),
        help:
            "postgres://USER:PASS@HOST:PORT/DB to use a shared PostgreSQL store (default $PETREL_STORE, else SQLite in the data directory)."
    )
    var store: String?

    var path: String {
        dataDir ?? ProcessInfo.processInfo.environment["PETREL_DATA_DIR"].flatMap { $0.isEmpty ? nil : $0 }
            ?? "./petrel-data"
    }

    var storeURL: String? {
        store ?? ProcessInfo.processInfo.environment["PETREL_STORE"].flatMap { $0.isEmpty ? nil : $0 }
    }
}

/// `petrel bench` was the benchmarks; they are the `petrel-bench` binary now, so that `petrel` does not ship them.
struct BenchMoved: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench", shouldDisplay: false)

    @Argument(parsing: .allUnrecognized) var arguments: [String] = []

    func run() throws {
        let command = (["petrel-bench"] + arguments).joined(separator: " ")
        throw CLIError(description: "the benchmarks are a binary of their own now: \(command)")
    }
}

struct CLIError: Error, CustomStringConvertible {
    let description: String
}

func nowMs() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }
