import GRDB
public import Logging
import PostgresNIO

/// What a store error means, said in a sentence for people (info and warning logs, the console, the CLI). The
/// library's own text ("SQLite error 13: database or disk is full - while executing `INSERT …`", "PSQLError – Generic
/// description …") goes to debug logs only (`Logger.storeFailure`).
public enum StoreErrorText {
    public static func sentence(_ error: any Error) -> String {
        switch error {
        case let e as StoreError: return e.description
        case let e as DatabaseError: return sqlite(e.resultCode)
        case let e as PSQLError: return "\(PostgresStore.storeError(e))"
        case is CancellationError: return "the store operation was cancelled (the server is stopping)"
        default: return "the store failed in an unexpected way (\(type(of: error)); the debug log has the details)"
        }
    }

    static func sqlite(_ code: ResultCode) -> String {
        switch code {
        case .SQLITE_FULL: return "the disk holding the SQLite store is full"
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return "the SQLite store stayed locked by another connection for too long (a long backup or command?)"
        case .SQLITE_READONLY: return "the SQLite store cannot be written (read-only file or directory?)"
        case .SQLITE_IOERR: return "the SQLite store's file cannot be read or written (a disk error)"
        case .SQLITE_CORRUPT, .SQLITE_NOTADB: return "the SQLite store's file is damaged"
        case .SQLITE_CANTOPEN: return "the SQLite store's file cannot be opened (moved, or no permission?)"
        case .SQLITE_NOMEM: return "SQLite ran out of memory"
        case .SQLITE_CONSTRAINT: return "the SQLite store refused a write that conflicts with a stored row"
        case .SQLITE_PERM, .SQLITE_AUTH: return "the SQLite store refused the operation (permission)"
        default: return "the SQLite store failed (result code \(code.rawValue))"
        }
    }

    /// PostgreSQL's SQLSTATE (by class where the class says it) and the server's own message.
    static func postgres(code: String, message: String) -> String {
        let said = message.isEmpty ? "" : ": \(message)"
        switch code {
        case "client":
            // PSQLError's code, a word like connectionClosed: the connection's failures are said as such.
            let lower = message.lowercased()
            if lower.contains("connection") || lower.contains("closed") || lower.contains("shutdown") {
                return "lost the connection to PostgreSQL, or could not open one"
            }
            return "the PostgreSQL client failed (\(message))"
        case "53100": return "the disk holding the PostgreSQL database is full"
        case "57P01", "57P02", "57P03": return "PostgreSQL is shutting down or restarting"
        case "25006": return "PostgreSQL accepts no writes (a read-only standby?)"
        case "55P03":
            return "a row this needs stayed locked by another transaction (another node?) past the lock wait; try again"
        case "25P03": return "PostgreSQL ended a transaction that stayed idle too long (was this node stalled?)"
        case "3D000": return "the PostgreSQL database does not exist\(said)"
        case "42P01": return "the PostgreSQL database lacks a Petrel table (was it set up by `petrel serve`?)\(said)"
        default: break
        }
        switch code.prefix(2) {
        case "08": return "lost the connection to PostgreSQL\(said)"
        case "28": return "PostgreSQL refused the user name or password"
        case "53": return "PostgreSQL is out of resources (connections, memory or disk)\(said)"
        case "40": return "PostgreSQL aborted a transaction that conflicted with another\(said)"
        default: return "PostgreSQL refused a statement (SQLSTATE \(code))\(said)"
        }
    }
}

extension Logger {
    /// A failed store operation: the sentence at `level` (warning unless told), the library's raw error at debug.
    public func storeFailure(
        _ what: String,
        _ error: any Error,
        level: Logger.Level = .warning,
        metadata: Logger.Metadata = [:]
    ) {
        var said = metadata
        said["error"] = "\(StoreErrorText.sentence(error))"
        log(level: level, "\(what)", metadata: said)
        var raw = metadata
        raw["error"] = "\(error)"
        debug("\(what): the store's raw error", metadata: raw)
    }
}
