import GRDB
public import PetrelCore

extension SQLiteStore {
    /// Adds accepted messages to the guard's send counters (inside the accept's transaction).
    static func addPumpingSends(_ account: String, _ sends: [PumpingBucket: Int], _ db: Database) throws {
        guard !sends.isEmpty else { return }
        let add = try db.cachedStatement(
            sql: """
                INSERT INTO pumping_counts (type, start, account, country, sent) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (type, start, account, country) DO UPDATE SET sent = sent + excluded.sent
                """
        )
        for (b, n) in sends {
            // Raw binds (as the accept's own inserts): this runs for every guarded message.
            try FastStatement.run(add, db) {
                $0.bind(b.type.rawValue)
                $0.bind(b.start)
                $0.bind(account)
                $0.bind(b.country)
                $0.bind(n)
            }
        }
    }

    /// A conversion report the guard counts (`pumping` set): added to its message's bucket unless that message was
    /// reported converted before.
    static func countConversion(_ c: ConversionRecord, _ db: Database) throws {
        guard let bucket = c.pumping, c.delivered, let id = c.messageId else { return }
        let seen = try Bool.fetchOne(
            db.cachedStatement(
                sql: "SELECT 1 FROM conversions WHERE account = ? AND message_id = ? AND delivered = 1 LIMIT 1"
            ),
            arguments: [c.account, id]
        )
        guard seen == nil else { return }
        try db.cachedStatement(
            sql: """
                INSERT INTO pumping_counts (type, start, account, country, converted) VALUES (?, ?, ?, ?, 1)
                ON CONFLICT (type, start, account, country) DO UPDATE SET converted = converted + 1
                """
        ).execute(arguments: [bucket.type.rawValue, bucket.start, c.account, bucket.country])
    }

    public func pumpingCounts(type: MessageType, sinceMs: Int64) async throws -> [PumpingCount] {
        try await readAside { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT g.account, g.country, SUM(g.sent), SUM(g.converted), h.lifted_at
                    FROM pumping_counts g LEFT JOIN pumping_halts h
                        ON h.account = g.account AND h.country = g.country AND h.type = g.type
                    WHERE g.type = ? AND g.start >= ?
                        AND (h.account IS NULL OR (h.lifted_at IS NOT NULL AND g.start >= h.lifted_at))
                    GROUP BY g.account, g.country, h.lifted_at ORDER BY g.account, g.country
                    """,
                arguments: [type.rawValue, sinceMs]
            ).map { row in
                PumpingCount(
                    account: row[0],
                    country: row[1],
                    type: type,
                    sent: row[2],
                    converted: row[3],
                    countedFromMs: row[4]
                )
            }
        }
    }

    public func haltPumping(_ halt: PumpingHalt, countedFromMs: Int64?) async throws -> Bool {
        try await committer.run(weight: 2) { db in
            try db.execute(
                sql: """
                    INSERT INTO pumping_halts (account, country, type, halted_at, sent, converted)
                    VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (account, country, type) DO UPDATE SET halted_at = excluded.halted_at,
                        sent = excluded.sent, converted = excluded.converted, lifted_at = NULL
                    WHERE pumping_halts.lifted_at = ?
                    """,
                arguments: [
                    halt.account, halt.country, halt.type.rawValue, halt.haltedAtMs, halt.sent, halt.converted,
                    countedFromMs,
                ]
            )
            return db.changesCount > 0
        }
    }

    public func pumpingHalts(account: String?) async throws -> [PumpingHalt] {
        try await readAside { db in try Self.halts(account: account, country: nil, db) }
    }

    public func liftPumpingHalts(account: String, country: String?, nowMs: Int64) async throws -> [PumpingHalt] {
        try await committer.run(weight: 2) { db in
            let halts = try Self.halts(account: account, country: country, db)
            try db.execute(
                sql: """
                    UPDATE pumping_halts SET lifted_at = ?
                    WHERE account = ? AND (? IS NULL OR country = ?) AND lifted_at IS NULL
                    """,
                arguments: [nowMs, account, country, country]
            )
            return halts
        }
    }

    static func halts(account: String?, country: String?, _ db: Database) throws -> [PumpingHalt] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT account, country, type, halted_at, sent, converted FROM pumping_halts
                WHERE lifted_at IS NULL AND (? IS NULL OR account = ?) AND (? IS NULL OR country = ?)
                ORDER BY account, country, type
                """,
            arguments: [account, account, country, country]
        ).compactMap { row in
            MessageType(rawValue: row[2]).map { type in
                PumpingHalt(
                    account: row[0],
                    country: row[1],
                    type: type,
                    haltedAtMs: row[3],
                    sent: row[4],
                    converted: row[5]
                )
            }
        }
    }
}
