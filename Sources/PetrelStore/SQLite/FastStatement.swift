import GRDB
import GRDBSQLite

/// Binds and steps a prepared statement through SQLite's C API. GRDB's `StatementArguments` box every value
/// in an existential; on the writer thread, which executes every insert and status change of the process, that
/// boxing was the largest cost. Only for the hot statements; everything else goes through GRDB as usual.
struct FastStatement {
    let handle: SQLiteStatement
    private var index: Int32 = 0

    /// Resets `statement`, lets `bind` fill its parameters in order, and runs it to completion.
    static func run(_ statement: Statement, _ db: Database, _ bind: (inout FastStatement) -> Void) throws {
        try query(statement, db, bind, row: { _ in })
    }

    /// As `run`, for a statement that returns rows: `row` reads each one from the handle (`sqlite3_column_…`).
    static func query(
        _ statement: Statement,
        _ db: Database,
        _ bind: (inout FastStatement) -> Void,
        row: (SQLiteStatement) -> Void
    ) throws {
        var s = FastStatement(handle: statement.sqliteStatement)
        sqlite3_reset(s.handle)
        bind(&s)
        while true {
            let rc = sqlite3_step(s.handle)
            if rc == SQLITE_ROW {
                row(s.handle)
                continue
            }
            guard rc == SQLITE_DONE else {
                throw DatabaseError(
                    resultCode: ResultCode(rawValue: rc),
                    message: String(cString: sqlite3_errmsg(db.sqliteConnection)),
                    sql: statement.sql
                )
            }
            break
        }
        sqlite3_reset(s.handle)
    }

    mutating func bind(_ value: Int64) {
        index += 1
        sqlite3_bind_int64(handle, index, value)
    }

    mutating func bind(_ value: Int) { bind(Int64(value)) }

    mutating func bind(_ value: Bool) { bind(Int64(value ? 1 : 0)) }

    mutating func bind(_ value: Int64?) {
        guard let value else {
            index += 1
            sqlite3_bind_null(handle, index)
            return
        }
        bind(value)
    }

    mutating func bind(_ value: String) {
        index += 1
        var v = value
        let handle = self.handle
        let index = self.index
        v.withUTF8 { bytes in
            guard let base = bytes.baseAddress, bytes.count > 0 else {
                sqlite3_bind_text(handle, index, "", 0, sqliteTransient)  // "" is not NULL
                return
            }
            base.withMemoryRebound(to: CChar.self, capacity: bytes.count) { chars in
                _ = sqlite3_bind_text(handle, index, chars, Int32(bytes.count), sqliteTransient)
            }
        }
    }

    mutating func bind(_ value: String?) {
        guard let value else {
            index += 1
            sqlite3_bind_null(handle, index)
            return
        }
        bind(value)
    }
}

/// SQLITE_TRANSIENT: SQLite copies the bytes before the call returns.
let sqliteTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
