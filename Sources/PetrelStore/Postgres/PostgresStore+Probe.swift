import Logging
import NIOSSL
import PostgresNIO

extension PostgresStore {
    /// One connection before the pool's. The pool retries a refused password or a missing database until the
    /// connect timeout, which would then be said as "cannot reach PostgreSQL"; this says what the server answered.
    static func probe(_ c: PostgresClient.Configuration, url: String, logger: Logger) async throws {
        guard let host = c.host else { return }
        let port = c.port ?? 5432
        var tls = PostgresConnection.Configuration.TLS.disable
        if !url.contains("sslmode=disable") {
            var unverified = TLSConfiguration.makeClientConfiguration()
            unverified.certificateVerification = .none
            tls = .prefer(try NIOSSLContext(configuration: unverified))
        }
        var configuration = PostgresConnection.Configuration(
            host: host,
            port: port,
            username: c.username,
            password: c.password,
            database: c.database,
            tls: tls
        )
        configuration.options.connectTimeout = .seconds(10)
        var quiet = logger
        quiet.logLevel = .critical
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: quiet)
        } catch let error as PSQLError where error.serverInfo?[.sqlState] != nil {
            throw StoreError.invalidLocation(
                "cannot open the store on PostgreSQL at \(host):\(port): \(StoreErrorText.sentence(error))"
            )
        } catch {
            // Unreachable: the pool's attempt says so within its timeout, naming the place.
            logger.debug("PostgreSQL probe failed", metadata: ["error": "\(error)"])
            return
        }
        try? await connection.close()
    }
}
