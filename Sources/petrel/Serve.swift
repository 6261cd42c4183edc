import ArgumentParser
import Foundation
import NIOCore
import PetrelDelivery
import PetrelServer

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the gateway.")

    @Option(help: "Address to listen on, HOST:PORT (default 127.0.0.1:8080).")
    var listen: String?

    @Option(
        name: .customLong("data-dir"),
        help:
            "Data directory, made if missing (default $PETREL_DATA_DIR, else dataDir of --config, else ./petrel-data)."
    )
    var dataDir: String?

    @Option(help: "Config file (YAML or JSON).")
    var config: String?

    @Option(
        help:
            "A shared PostgreSQL store, postgres://USER:PASS@HOST:PORT/DB (default $PETREL_STORE, else SQLite in the data directory)."
    )
    var store: String?

    @Option(
        name: .customLong("node-name"),
        help: "This node's name among nodes sharing a PostgreSQL store (default HOSTNAME:DATA-DIR)."
    )
    var nodeName: String?

    func run() async throws {
        var c = ServerConfiguration()
        do {
            if let config { c = try ServerConfiguration.load(path: config) }
            if let listen { try c.setListen(listen) }
        } catch {
            throw CLIError(description: "\(error)")
        }
        if let env = ProcessInfo.processInfo.environment["PETREL_LOG_FORMAT"] {
            guard let format = LogFormat(rawValue: env) else {
                throw CLIError(description: "PETREL_LOG_FORMAT must be text or json")
            }
            c.logFormat = format
        }
        c.logFormat.bootstrap()
        // The flag, then the environment, then the file, then the default: as every other command finds it.
        if let dataDir {
            c.dataDir = dataDir
        } else if let env = ProcessInfo.processInfo.environment["PETREL_DATA_DIR"], !env.isEmpty {
            c.dataDir = env
        }
        if let store {
            c.store = store
        } else if let env = ProcessInfo.processInfo.environment["PETREL_STORE"], !env.isEmpty {
            c.store = env
        }
        if let nodeName { c.nodeName = nodeName }
        do {
            try await PetrelServer.run(configuration: c)
        } catch let error as IOError where "\(error)".hasPrefix("bind(") {
            throw CLIError(description: NetworkErrorText.listening(error, host: c.host, port: c.port))
        }
    }
}
