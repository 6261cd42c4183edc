import GRDB
import GRDBSQLite

/// Sums `stats_hours` rows into cells (period, account, country, Type, channel) as they are read, for the
/// Statistics page's range. A `GROUP BY` on the day expression made SQLite sort every row of the range with all of
/// its columns first: over a month of a busy store (40,000 counter rows) that sort was two thirds of the page's time.
/// Rows come in primary-key order and there are few distinct texts, so each text is matched against the ones seen
/// (its bytes, no string made) and the sums are kept by small integers.
struct StatsCube {
    /// The distinct values of one text column, by first appearance.
    private struct Texts {
        var values: [String] = []
        var bytes: [[UInt8]] = []
        var byValue: [String: Int] = [:]
        var last = -1

        /// The index of the text in column `column` of the current row.
        mutating func index(_ statement: SQLiteStatement, _ column: Int32) -> Int {
            let count = Int(sqlite3_column_bytes(statement, column))
            let raw = sqlite3_column_text(statement, column)
            let row = UnsafeBufferPointer(start: raw, count: raw == nil ? 0 : count)
            if last >= 0, bytes[last].elementsEqual(row) { return last }
            // Few distinct values (accounts, countries, Types, channels of one store): compared, not hashed.
            if values.count <= 32 {
                for (i, b) in bytes.enumerated() where b.elementsEqual(row) {
                    last = i
                    return i
                }
            } else if let i = byValue[String(decoding: row, as: UTF8.self)] {
                last = i
                return i
            }
            let value = String(decoding: row, as: UTF8.self)
            values.append(value)
            bytes.append(Array(row))
            byValue[value] = values.count - 1
            last = values.count - 1
            return last
        }
    }

    private struct Key: Hashable {
        var period: Int64
        var account: Int
        var country: Int
        var type: Int
        var channel: Int
    }

    private var accounts = Texts()
    private var countries = Texts()
    private var types = Texts()
    private var channels = Texts()
    private var sums: [Key: StatsCounts] = [:]
    private var order: [Key] = []

    /// Reads `SELECT hour, account, country, type, channel, <StatsSQL.counterColumns> FROM stats_hours WHERE …` and
    /// sums each row into its period: the hour itself, or the day starting at local midnight for `dayOffsetMs`.
    static func cells(
        _ statement: Statement,
        _ arguments: StatementArguments,
        _ db: Database,
        dayOffsetMs: Int64?
    ) throws -> [StatsCell] {
        try statement.setArguments(arguments)
        var cube = StatsCube()
        try FastStatement.query(statement, db, { _ in }, row: { s in cube.add(s, dayOffsetMs: dayOffsetMs) })
        return cube.order.map { key in
            StatsCell(
                period: key.period,
                account: cube.accounts.values[key.account],
                country: cube.countries.values[key.country],
                type: cube.types.values[key.type],
                channel: cube.channels.values[key.channel],
                counts: cube.sums[key]!
            )
        }
    }

    private mutating func add(_ s: SQLiteStatement, dayOffsetMs: Int64?) {
        let hour = sqlite3_column_int64(s, 0)
        // As the SQL did: ((hour + offset) / day) * day - offset, integer division.
        let period = dayOffsetMs.map { ((hour + $0) / 86_400_000) * 86_400_000 - $0 } ?? hour
        let key = Key(
            period: period,
            account: accounts.index(s, 1),
            country: countries.index(s, 2),
            type: types.index(s, 3),
            channel: channels.index(s, 4)
        )
        if sums[key] == nil { order.append(key) }
        sums[key, default: StatsCounts()].add(s, from: 5)
    }
}

extension StatsCounts {
    /// Adds the counter columns (`StatsSQL.counterColumns`, in order) of the current row from column `first`.
    fileprivate mutating func add(_ s: SQLiteStatement, from first: Int32) {
        submitted += Int(sqlite3_column_int64(s, first))
        parts += Int(sqlite3_column_int64(s, first + 1))
        delivered += Int(sqlite3_column_int64(s, first + 2))
        failed += Int(sqlite3_column_int64(s, first + 3))
        expired += Int(sqlite3_column_int64(s, first + 4))
        for i in delivery.indices { delivery[i] += Int(sqlite3_column_int64(s, first + 5 + Int32(i))) }
    }
}
