import Foundation
public import Logging
import NIOSSL
import PetrelCore
import PostgresNIO
import Synchronization

/// The shared store: any number of `petrel serve` nodes on one PostgreSQL database, with no other coordinator.
/// Work is divided through the database itself: queued messages and receipts are claimed with leases
/// (`FOR UPDATE SKIP LOCKED`), nonces are unique across nodes, and each node takes a node number for its ids.
public final class PostgresStore: MessageStore {
    let client: PostgresClient
    let secrets: SecretBox
    let logger: Logger
    // The pool's run loop and the key-change listener live as long as the store, which is no scope of its callers
    // (a server opens it and closes it from different places): so these two tasks are owned, not structured, and
    // `close` cancels and awaits both.
    private let runner: Task<Void, Never>
    private let listener: Task<Void, Never>
    let keys = PostgresKeyCache()
    /// Concurrent requests' messages share statements (see PostgresGroupCommit).
    let group: PostgresGroupCommit
    /// The sends `limits.perNumber` counts, in this node's memory (see PostgresSendMemory).
    let sendMemory: PostgresSendMemory
    /// This node's limited decisions take turns (see LimitTurn).
    let limitTurn = LimitTurn()
    /// This process's node number (set by `registerNode`): the owner written on the messages it claims.
    private let node = Mutex((number: 0, name: ""))
    var nodeNumber: Int {
        get { node.withLock { $0.number } }
        set { node.withLock { $0.number = newValue } }
    }
    var nodeName: String {
        get { node.withLock { $0.name } }
        set { node.withLock { $0.name = newValue } }
    }

    /// What opening does with a database that has no Petrel schema yet.
    public enum Schema: Sendable {
        /// Creates it (a server).
        case create
        /// Refuses with `NotSetUp` before writing anything (a command must not set up a database by accident).
        case existingOnly
    }

    /// The database has no Petrel schema, and opening was told not to create one.
    public struct NotSetUp: Error, CustomStringConvertible {
        public var description: String { "the PostgreSQL database has no Petrel store: no server has set it up yet" }
    }

    /// Connects to `url` (`postgres://USER:PASS@HOST:PORT/DB`, optional `?sslmode=disable|prefer|require`) and
    /// migrates the schema (with `.existingOnly`, only one that exists). The URL's password is never logged or put
    /// in an error.
    public init(
        url: String,
        secrets: SecretBox,
        logger: Logger = Logger(label: "petrel.postgres"),
        maxConnections: Int = 20,
        schema: Schema = .create,
        trackedSends: Int = SQLiteStore.defaultTrackedSends,
        lockWait: Duration = .seconds(10)
    ) async throws {
        var configuration = try Self.configuration(url)
        try await Self.probe(configuration, url: url, logger: logger)
        configuration.options.additionalStartupParameters = Self.sessionBounds(lockWait: lockWait)
        configuration.options.maximumConnections = maxConnections
        configuration.options.minimumConnections = 0
        // The pool logs every connection it opens or closes at info; only its errors belong in Petrel's log.
        var background = logger
        background.logLevel = .error
        client = PostgresClient(configuration: configuration, backgroundLogger: background)
        let client = self.client
        runner = Task { await client.run() }
        let keys = self.keys
        listener = Task { await keys.listen(client: client, logger: logger) }
        self.secrets = secrets
        self.logger = logger
        sendMemory = PostgresSendMemory(capacity: trackedSends)
        group = PostgresGroupCommit(
            run: { [client, logger] batches in try await Self.insert(batches, client: client, logger: logger) },
            single: { [client, logger] batch in try await Self.insert(batch, client: client, logger: logger) }
        )
        group.handleLimited(
            run: { [weak self] items in
                guard let self else { throw StoreError.closed }
                return try await self.commitGroup(items)
            },
            single: { [weak self] batch, limits in
                guard let self else { throw StoreError.closed }
                return try await self.commitAlone(batch, limits: limits)
            }
        )
        do {
            // The pool retries an unreachable server forever: give up after connectTimeout, saying where it looked.
            // Then the schema: on a loaded machine creating it can take longer than a connection, so it has its
            // own, longer bound and its own sentence.
            let host = "\(configuration.host ?? "?"):\(configuration.port ?? 5432)"
            let timeout = configuration.options.connectTimeout
            try await Self.within(timeout, "cannot reach PostgreSQL at \(host) within \(timeout)") {
                try await self.run("SELECT 1")
            }
            try await Self.within(.seconds(120), "PostgreSQL at \(host) did not finish opening the store within 120 s")
            {
                try await self.migrate(creating: schema == .create)
            }
        } catch {
            listener.cancel()
            await listener.value
            runner.cancel()
            await runner.value
            throw error
        }
    }

    /// Runs `work`, failing with `why` when it takes longer than `limit`.
    static func within(
        _ limit: Duration,
        _ why: String,
        _ work: @escaping @Sendable () async throws -> Void
    ) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await work() }
            group.addTask {
                try await Task.sleep(for: limit)
                throw StoreError.invalidLocation(why)
            }
            try await group.next()
            group.cancelAll()
        }
    }

    static func configuration(_ url: String) throws -> PostgresClient.Configuration {
        guard let c = URLComponents(string: url), c.scheme == "postgres" || c.scheme == "postgresql", let host = c.host,
            let user = c.user
        else { throw StoreError.invalidLocation("a PostgreSQL store is named postgres://USER:PASS@HOST:PORT/DB") }
        let database = c.path.hasPrefix("/") ? String(c.path.dropFirst()) : c.path
        // sslmode as libpq reads it: prefer and require encrypt without checking the certificate, verify-full checks
        // it against the system's trust store and the host name.
        var unverified = TLSConfiguration.makeClientConfiguration()
        unverified.certificateVerification = .none
        let tls: PostgresClient.Configuration.TLS
        switch c.queryItems?.first(where: { $0.name == "sslmode" })?.value ?? "prefer" {
        case "disable": tls = .disable
        case "require": tls = .require(unverified)
        case "verify-full": tls = .require(.makeClientConfiguration())
        default: tls = .prefer(unverified)
        }
        return PostgresClient.Configuration(
            host: host,
            port: c.port ?? 5432,
            username: user.removingPercentEncoding ?? user,
            password: c.password.map { $0.removingPercentEncoding ?? $0 },
            database: database.isEmpty ? nil : database,
            tls: tls
        )
    }

    /// What every session of the pool is started with. Nodes wait on each other's row locks (an account's limit
    /// head, a claimed message, the opt-out version): a node that stops in the middle of a transaction (paused, cut
    /// off, its disk stalled) holds them, and every other node's senders would wait behind them for as long.
    /// `lock_timeout` bounds one statement's wait, so a request fails with a sentence (and may be sent again)
    /// instead of hanging; `idle_in_transaction_session_timeout` (a minute: no transaction of Petrel's idles for
    /// more than milliseconds between statements, or seconds behind a lock wait) makes the server end the stalled
    /// session, so its locks go. A node that then wakes finds its connection closed and fails that transaction
    /// (`checked`), the pool opening another.
    static func sessionBounds(lockWait: Duration) -> [(String, String)] {
        let ms = lockWait.components.seconds * 1000 + lockWait.components.attoseconds / 1_000_000_000_000_000
        return [("lock_timeout", "\(max(1, ms))"), ("idle_in_transaction_session_timeout", "60000")]
    }

    /// Applies the migrations not yet applied, under an advisory lock held by one connection for the whole run.
    /// Without `creating`, a database without the migrations table is refused before anything is written.
    func migrate(creating: Bool = true) async throws {
        try await client.withConnection { c in
            if !creating {
                let rows = try await c.query("SELECT to_regclass('petrel_migrations') IS NOT NULL", logger: logger)
                var exists = false
                for try await found in rows.decode(Bool.self) { exists = found }
                guard exists else { throw NotSetUp() }
            }
            // Waiting for another node's migration, and a migration's own table locks, are not bounded by the
            // session's lock_timeout: a node that starts beside a migrating one waits for it (within open's 120 s).
            try await c.query("SET lock_timeout = 0", logger: logger)
            try await c.query("SELECT pg_advisory_lock(\(PostgresSchema.lockKey))", logger: logger)
            do {
                try await c.query(
                    "CREATE TABLE IF NOT EXISTS petrel_migrations (name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)",
                    logger: logger
                )
                var applied = Set<String>()
                for try await name in try await c.query("SELECT name FROM petrel_migrations", logger: logger).decode(
                    String.self
                ) {
                    applied.insert(name)
                }
                for m in PostgresSchema.migrations where !applied.contains(m.name) {
                    let now = Int64(Date().timeIntervalSince1970 * 1000)
                    try await c.withTransaction(logger: logger) { t in
                        for statement in PostgresSchema.statements(m.sql) {
                            try await t.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                        }
                        try await t.query(
                            "INSERT INTO petrel_migrations (name, applied_at) VALUES (\(m.name), \(now))",
                            logger: logger
                        )
                    }
                }
            } catch {
                _ = try? await c.query("SELECT pg_advisory_unlock(\(PostgresSchema.lockKey))", logger: logger)
                _ = try? await c.query("RESET lock_timeout", logger: logger)
                throw error
            }
            try await c.query("SELECT pg_advisory_unlock(\(PostgresSchema.lockKey))", logger: logger)
            try await c.query("RESET lock_timeout", logger: logger)
        }
    }

    public func close() async throws {
        await group.close()
        listener.cancel()
        await listener.value
        runner.cancel()
        await runner.value
    }

    /// Creates (or drops) database `name` on the server `url` names, for tests and benchmarks that want a fresh
    /// store each. Returns the URL of the new database.
    public static func createDatabase(url: String, name: String) async throws -> String {
        try await admin(url) { c, logger in
            try await c.query("CREATE DATABASE \(unescaped: quoted(name))", logger: logger)
        }
        var parts = URLComponents(string: url)!
        parts.path = "/" + name
        return parts.string!
    }

    public static func dropDatabase(url: String, name: String) async throws {
        try await admin(url) { c, logger in
            try await c.query("DROP DATABASE IF EXISTS \(unescaped: quoted(name)) WITH (FORCE)", logger: logger)
        }
    }

    private static func quoted(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    private static func admin(_ url: String, _ body: (PostgresClient, Logger) async throws -> Void) async throws {
        var logger = Logger(label: "petrel.postgres")
        logger.logLevel = .error
        let client = PostgresClient(configuration: try configuration(url), backgroundLogger: logger)
        // The pool runs for exactly the body's time: a child task, cancelled and awaited when the body ends.
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            try await body(client, logger)
        }
    }

    // MARK: Helpers

    /// Runs `q` (on `c`, else on a pooled connection) and maps each row.
    func rows<T>(
        _ q: PostgresQuery,
        on c: PostgresConnection? = nil,
        _ map: (PostgresRandomAccessRow) throws -> T
    ) async throws -> [T] {
        do {
            if let c {
                try Self.open(c)
                return try await Self.collect(try await c.query(q, logger: logger), map)
            }
            return try await Self.collect(try await client.query(q, logger: logger), map)
        } catch {
            throw Self.storeError(error)
        }
    }

    /// Every row of a result, mapped.
    static func collect<Rows: AsyncSequence, T>(
        _ rows: Rows,
        _ map: (PostgresRandomAccessRow) throws -> T
    ) async throws -> [T] where Rows.Element == PostgresRow {
        var out: [T] = []
        for try await row in rows { out.append(try map(row.makeRandomAccess())) }
        return out
    }

    /// PostgreSQL's errors as store errors: a used nonce, or the SQLSTATE and the server's message (PSQLError's
    /// own description hides both, and its reflection carries the statement's values).
    static func storeError(_ error: any Error) -> any Error {
        guard let p = error as? PSQLError else { return error }
        guard let code = p.serverInfo?[.sqlState] else {
            return StoreError.database(code: "client", message: "\(p.code)")
        }
        if code == "23505", p.serverInfo?[.constraintName] == "nonces_pkey" { return StoreError.nonceUsed }
        // petrel_fail in LimitedGroupSQL: a nonce of the group was used before, or the head moved; nothing was
        // written either way.
        if code == "PT001" {
            let message = p.serverInfo?[.message] ?? ""
            return message == LimitedGroupSQL.headMoved ? StoreError.conflict(message) : StoreError.nonceUsed
        }
        return StoreError.database(code: code, message: p.serverInfo?[.message] ?? "")
    }

    func first<T>(
        _ q: PostgresQuery,
        on c: PostgresConnection? = nil,
        _ map: (PostgresRandomAccessRow) throws -> T
    ) async throws -> T? {
        try await rows(q, on: c, map).first
    }

    /// Runs a statement; returns the number of rows it returned (statements that change rows say `RETURNING 1`).
    @discardableResult
    func run(_ q: PostgresQuery, on c: PostgresConnection? = nil) async throws -> Int {
        try await rows(q, on: c) { _ in () }.count
    }

    /// Runs `body` in a transaction. Two nodes updating the same rows in different orders can deadlock; PostgreSQL
    /// then aborts one of them, which is tried again (a few times) instead of failing its caller. BEGIN, COMMIT and
    /// ROLLBACK go through `checked` (postgres-nio's own `withTransaction` would wait for ever on a COMMIT sent to a
    /// connection the server had closed meanwhile).
    func transaction<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        var attempt = 0
        while true {
            do {
                return try await client.withConnection { c in
                    try await Self.checked(c, "BEGIN", logger: logger)
                    do {
                        let value = try await body(c)
                        try await Self.checked(c, "COMMIT", logger: logger)
                        return value
                    } catch {
                        if !c.isClosed { _ = try? await Self.checked(c, "ROLLBACK", logger: logger) }
                        throw error
                    }
                }
            } catch {
                let cause = Self.storeError(error)
                if case .database(let code, _)? = cause as? StoreError, ["40P01", "40001"].contains(code), attempt < 3 {
                    attempt += 1
                    continue
                }
                throw cause
            }
        }
    }

    /// A statement on a leased connection, refused at once when the connection is closed. postgres-nio 1.33 sends a
    /// query to a closed connection's channel without a write promise, so the query's own promise is never
    /// completed and its caller waits for ever (seen when the server ends a session: a restart, a failover,
    /// `pg_terminate_backend`). A close that lands between this check and the write is not covered.
    static func checked(_ c: PostgresConnection, _ sql: String, logger: Logger) async throws {
        try Self.open(c)
        try await c.query(PostgresQuery(unsafeSQL: sql), logger: logger)
    }

    /// Throws the "lost the connection" store error when `c` is closed.
    static func open(_ c: PostgresConnection) throws {
        if c.isClosed { throw StoreError.database(code: "client", message: "the connection was closed") }
    }
}

extension PostgresRandomAccessRow {
    func get<T: PostgresDecodable>(_ i: Int, as: T.Type = T.self) throws -> T { try self[i].decode(T.self) }
}
