import ArgumentParser
import PetrelServer

struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Work with config files.",
        subcommands: [Check.self]
    )

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a config file the way `petrel serve` reads it; exits 1 naming the first bad key."
        )
        @Argument(help: "The YAML or JSON file.") var file: String

        func run() async throws {
            do {
                let c = try ServerConfiguration.load(path: file)
                print(
                    "\(file): OK (listen \(c.host):\(c.port), \(c.smppChannels.count) SMPP channel(s), \(c.httpChannels.count) HTTP channel(s), \(c.routes.count) route(s), \(c.accounts.count) account(s))"
                )
            } catch {
                print("\(file): \(error)")
                throw ExitCode(1)
            }
        }
    }
}
