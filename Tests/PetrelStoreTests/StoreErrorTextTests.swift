import Foundation
import GRDB
import Logging
import Synchronization
import Testing

@testable import PetrelStore

/// Store errors reach people as sentences; the library's own text stays in debug logs (issue 22).
@Suite struct StoreErrorTextTests {
    /// Words of the libraries' own texts that must not reach an info or warning line.
    static let jargon = ["SQLite error", "while executing", "PSQLError", "Generic description", "DatabaseError"]

    func assertSentence(_ text: String, says part: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(text.contains(part), "\(text)", sourceLocation: sourceLocation)
        for word in Self.jargon { #expect(!text.contains(word), "\(text)", sourceLocation: sourceLocation) }
    }

    @Test func realSQLiteErrorsAreSentences() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("petrel-errors-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        // A file that is not a database: SQLite's "file is not a database - while executing `…`".
        let garbage = dir.appendingPathComponent("garbage.sqlite").path
        FileManager.default.createFile(atPath: garbage, contents: Data(repeating: 7, count: 8192))
        let damaged = #expect(throws: DatabaseError.self) {
            let q = try DatabaseQueue(path: garbage)
            try q.read { db in _ = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sqlite_master") }
        }
        #expect("\(damaged!)".contains("SQLite error"))
        assertSentence(StoreErrorText.sentence(damaged!), says: "damaged")
        // A write through a read-only connection.
        let file = dir.appendingPathComponent("store.sqlite").path
        try DatabaseQueue(path: file).write { db in try db.execute(sql: "CREATE TABLE t (x INTEGER)") }
        var readOnly = Configuration()
        readOnly.readonly = true
        let refused = #expect(throws: DatabaseError.self) {
            try DatabaseQueue(path: file, configuration: readOnly).writeWithoutTransaction { db in
                try db.execute(sql: "INSERT INTO t VALUES (1)")
            }
        }
        assertSentence(StoreErrorText.sentence(refused!), says: "cannot be written")
        assertSentence(StoreErrorText.sentence(DatabaseError(resultCode: .SQLITE_FULL)), says: "disk")
        assertSentence(StoreErrorText.sentence(DatabaseError(resultCode: .SQLITE_BUSY)), says: "locked")
    }

    @Test func postgresErrorsAreSaidByTheirSQLState() {
        let cases: [(String, String, String)] = [
            ("53100", "could not extend file", "disk holding the PostgreSQL database is full"),
            ("08006", "connection failure", "lost the connection to PostgreSQL"),
            ("57P01", "terminating connection due to administrator command", "shutting down or restarting"),
            ("42P01", "relation \"messages\" does not exist", "petrel serve"),
            ("client", "connectionClosed", "lost the connection to PostgreSQL"),
            ("22P02", "invalid input syntax", "PostgreSQL refused a statement (SQLSTATE 22P02)"),
        ]
        for (code, message, said) in cases {
            assertSentence(StoreErrorText.sentence(StoreError.database(code: code, message: message)), says: said)
        }
    }

    @Test func anUnknownErrorIsNotPrintedRaw() {
        struct LibraryThing: Error, CustomStringConvertible { var description: String { "LibraryThing(errno: 5)" } }
        let text = StoreErrorText.sentence(LibraryThing())
        #expect(!text.contains("errno") && text.contains("debug log"), "\(text)")
    }

    @Test func theLogCarriesTheSentenceAndTheRawErrorOnlyAtDebug() {
        let lines = Lines()
        var logger = Logger(label: "test") { _ in Capture(lines: lines) }
        logger.logLevel = .debug
        logger.storeFailure(
            "campaign round failed",
            DatabaseError(resultCode: .SQLITE_FULL, message: "database or disk is full")
        )
        let seen = lines.all.withLock { $0 }
        #expect(seen.count == 2)
        for (level, message, error) in seen where level > .debug {
            #expect(message == "campaign round failed")
            assertSentence(error, says: "disk holding the SQLite store is full")
        }
        #expect(seen.contains { $0.0 == .warning })
        #expect(seen.contains { $0.0 == .debug && $0.2.contains("SQLite error 13") })
    }
}

/// Each line's level, message and `error` metadata.
private final class Lines: Sendable {
    let all = Mutex<[(Logger.Level, String, String)]>([])
}

private struct Capture: LogHandler {
    let lines: Lines
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        lines.all.withLock {
            $0.append((event.level, "\(event.message)", event.metadata?["error"].map { "\($0)" } ?? ""))
        }
    }
}
