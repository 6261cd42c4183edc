public import PetrelCore
import PostgresNIO

extension PostgresStore {
    /// A conversion report the guard counts (`pumping` set): added to its message's bucket unless that message was
    /// reported converted before (two reports at once on two nodes wait on a lock per message, so one counts).
    func countConversion(_ x: ConversionRecord, on c: PostgresConnection) async throws {
        guard let bucket = x.pumping, x.delivered, let id = x.messageId else { return }
        try await run(
            "SELECT pg_advisory_xact_lock(hashtextextended('conversion ' || \(x.account) || ' ' || \(id), 0))",
            on: c
        )
        let seen = try await run(
            "SELECT 1 FROM conversions WHERE account = \(x.account) AND message_id = \(id) AND delivered LIMIT 1",
            on: c
        )
        guard seen == 0 else { return }
        try await run(
            """
            INSERT INTO pumping_counts (type, start, account, country, converted)
            VALUES (\(bucket.type.rawValue), \(bucket.start), \(x.account), \(bucket.country), 1)
            ON CONFLICT (type, start, account, country) DO UPDATE SET converted = pumping_counts.converted + 1
            """,
            on: c
        )
    }

    public func pumpingCounts(type: MessageType, sinceMs: Int64) async throws -> [PumpingCount] {
        try await rows(
            """
            SELECT g.account, g.country, SUM(g.sent)::bigint, SUM(g.converted)::bigint, h.lifted_at
            FROM pumping_counts g LEFT JOIN pumping_halts h
                ON h.account = g.account AND h.country = g.country AND h.type = g.type
            WHERE g.type = \(type.rawValue) AND g.start >= \(sinceMs)
                AND (h.account IS NULL OR (h.lifted_at IS NOT NULL AND g.start >= h.lifted_at))
            GROUP BY g.account, g.country, h.lifted_at ORDER BY g.account, g.country
            """
        ) { row in
            PumpingCount(
                account: try row.get(0),
                country: try row.get(1),
                type: type,
                sent: Int(try row.get(2, as: Int64.self)),
                converted: Int(try row.get(3, as: Int64.self)),
                countedFromMs: try row.get(4, as: Int64?.self)
            )
        }
    }

    /// One statement: the insert, or the update of a lifted row whose lift is still the one counted from; two
    /// nodes trying at once make one halt (the second finds the row halted and changes nothing).
    public func haltPumping(_ halt: PumpingHalt, countedFromMs: Int64?) async throws -> Bool {
        try await run(
            """
            INSERT INTO pumping_halts (account, country, type, halted_at, sent, converted)
            VALUES (\(halt.account), \(halt.country), \(halt.type.rawValue), \(halt.haltedAtMs),
                \(Int64(halt.sent)), \(Int64(halt.converted)))
            ON CONFLICT (account, country, type) DO UPDATE SET halted_at = excluded.halted_at,
                sent = excluded.sent, converted = excluded.converted, lifted_at = NULL
            WHERE pumping_halts.lifted_at = \(countedFromMs)
            RETURNING 1
            """
        ) > 0
    }

    public func pumpingHalts(account: String?) async throws -> [PumpingHalt] {
        try await rows(
            """
            SELECT account, country, type, halted_at, sent, converted FROM pumping_halts
            WHERE lifted_at IS NULL AND (\(account)::text IS NULL OR account = \(account))
            ORDER BY account, country, type
            """,
            Self.halt
        ).compactMap { $0 }
    }

    public func liftPumpingHalts(account: String, country: String?, nowMs: Int64) async throws -> [PumpingHalt] {
        try await rows(
            """
            UPDATE pumping_halts SET lifted_at = \(nowMs)
            WHERE account = \(account) AND (\(country)::text IS NULL OR country = \(country)) AND lifted_at IS NULL
            RETURNING account, country, type, halted_at, sent, converted
            """,
            Self.halt
        ).compactMap { $0 }
    }

    static func halt(_ row: PostgresRandomAccessRow) throws -> PumpingHalt? {
        guard let type = MessageType(rawValue: try row.get(2, as: String.self)) else { return nil }
        return PumpingHalt(
            account: try row.get(0),
            country: try row.get(1),
            type: type,
            haltedAtMs: try row.get(3),
            sent: Int(try row.get(4, as: Int64.self)),
            converted: Int(try row.get(5, as: Int64.self))
        )
    }
}
