import GRDB
import GRDBSQLite

/// Rows bound as the parameters of a `VALUES` list, a fixed number of rows per statement, for set-based
/// statements on the writer thread (`WITH r(…) AS (VALUES …) UPDATE … FROM r`): one statement per chunk instead
/// of one per row, because per statement SQLite opens a statement journal and runs the receipt trigger's program
/// afresh, which cost more than the row changes themselves.
///
/// These statements used to take their rows as one JSON text (`json_each(?)`), but every `value ->> N` parses the
/// row's JSON again: for an UPDATE of eight columns SQLite 3.40 spent about twice the time per row that bound
/// values take (7.6 against 4.0 µs at 64 rows per statement, 10.0 against 4.6 at 16). Rows per statement come from
/// a short list, so each statement has a few texts and they stay in the statement cache.
enum ValuesList {
    static let chunkSizes = [64, 16, 4, 1]

    /// How `count` rows are split into statements, largest first: 150 → [64, 64, 16, 4, 1, 1].
    static func chunks(_ count: Int) -> [Int] {
        var left = count
        var out: [Int] = []
        for size in chunkSizes {
            while left >= size {
                out.append(size)
                left -= size
            }
        }
        return out
    }

    /// `(?,?),(?,?),…`: `rows` rows of `columns` parameters.
    static func placeholders(rows: Int, columns: Int) -> String {
        let row = "(" + Array(repeating: "?", count: columns).joined(separator: ",") + ")"
        return Array(repeating: row, count: rows).joined(separator: ",")
    }

    /// A statement's text for each chunk size, built once (the writer runs these for every request).
    struct SQL: Sendable {
        private let texts: [Int: String]

        init(_ make: (Int) -> String) {
            texts = Dictionary(uniqueKeysWithValues: ValuesList.chunkSizes.map { ($0, make($0)) })
        }

        func callAsFunction(_ rows: Int) -> String { texts[rows]! }
    }

    /// Runs `sql(k)` once per chunk of `rows`, `bind` filling each chunk's parameters in order; `result` reads
    /// each row the statements return (a SELECT, or an UPDATE … RETURNING).
    static func run<Row>(
        _ rows: some Collection<Row>,
        _ db: Database,
        sql: SQL,
        bind: (inout FastStatement, Row) -> Void,
        result: (SQLiteStatement) -> Void = { _ in }
    ) throws {
        var next = rows.startIndex
        for k in chunks(rows.count) {
            let end = rows.index(next, offsetBy: k)
            try FastStatement.query(
                try db.cachedStatement(sql: sql(k)),
                db,
                { s in
                    for row in rows[next..<end] { bind(&s, row) }
                },
                row: result
            )
            next = end
        }
    }
}
