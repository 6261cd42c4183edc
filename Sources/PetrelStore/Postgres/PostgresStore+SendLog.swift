import NIOCore
import PetrelCore
import PostgresNIO

/// `limits.perNumber` on PostgreSQL: the sends counted per number live in each node's memory
/// (`PostgresSendMemory`), and `send_log` carries them between nodes.
extension PostgresStore {
    /// The sends counted after `since` to `numbers` (recipients by account), and the memory generation they were
    /// read in. Under the accounts' locks (an accept) this is exact: memory, once the log rows other nodes appended
    /// are counted in; the log itself when memory is not complete; and `send_counts`, where versions before the log
    /// counted, while it holds a send of the last day. Without the locks (a preview) it is what was committed.
    ///
    /// The rows past `seen` are counted into memory from `keeping` (default `since`): a read whose `since` is later
    /// than an accept's (a preview of a campaign that starts later) keeps the older sends too, or memory would
    /// move past rows it never counted.
    func countedHistory(
        _ numbers: [String: Set<String>],
        since: Int64,
        keeping: Int64? = nil,
        on c: PostgresConnection?
    ) async throws -> (history: [String: [String: [LimitedSend]]], generation: Int, legacy: Int64) {
        let kept = min(keeping ?? since, since)
        let accounts = Array(numbers.keys)
        let (generation, seen) = sendMemory.seen(accounts)
        // One round trip: the rows past what this node has counted, and the old table's latest send.
        let read = try await rows(
            """
            SELECT 0::bigint, ''::text, NULL::bytea, (SELECT max(at) FROM send_counts)
            UNION ALL
            SELECT l.seq, l.account, l.sends, NULL::bigint
            FROM unnest(\(accounts)::text[], \(seen)::bigint[]) AS x(a, s)
            CROSS JOIN LATERAL (
                SELECT seq, account, sends FROM send_log WHERE account = x.a AND seq > x.s AND at > \(kept)
            ) l
            """,
            on: c
        ) { row in
            (
                try row.get(0, as: Int64.self), try row.get(1, as: String.self),
                try row.get(2, as: ByteBuffer?.self), try row.get(3, as: Int64?.self)
            )
        }
        var rows: [PostgresSendMemory.LogRow] = []
        var legacy: Int64 = 0
        for (seq, account, sends, old) in read {
            if let sends {
                rows.append((seq, account, Array(sends.readableBytesView)))
            } else {
                legacy = old ?? 0
            }
        }
        rows.sort { $0.seq < $1.seq }
        var history: [String: [String: [LimitedSend]]] = [:]
        var fromLog: [String: Set<String>] = [:]
        if sendMemory.apply(rows, reading: accounts, generation: generation, forgetMs: kept) {
            for (account, recipients) in numbers {
                let h = sendMemory.history(
                    account: account,
                    recipients: Array(recipients),
                    since: since,
                    generation: generation
                )
                if let h {
                    if !h.isEmpty { history[account] = h }
                } else {
                    fromLog[account] = recipients
                }
            }
        } else {
            fromLog = numbers
        }
        if !fromLog.isEmpty { try await readLog(fromLog, since: since, into: &history, on: c) }
        if legacy > since { try await readSendCounts(numbers, since: since, into: &history, on: c) }
        return (history, generation, legacy)
    }

    /// Reads the last day's log into memory at start, a few thousand rows at a time, so no accept under limits
    /// reads a whole account's day while it holds that account's lock (the accepts that come meanwhile read what
    /// is not counted yet themselves).
    public func loadSendCounts(nowMs: Int64) async throws {
        let since = nowMs - NumberLimits.horizonMs
        var after = (account: "", seq: Int64(0))
        while true {
            let (generation, _) = sendMemory.seen([])
            let rows = try await self.rows(
                """
                SELECT seq, account, sends FROM send_log
                WHERE (account, seq) > (\(after.account), \(after.seq)) AND at > \(since) ORDER BY account, seq LIMIT 2000
                """
            ) { row in
                (
                    try row.get(0, as: Int64.self), try row.get(1, as: String.self),
                    Array(try row.get(2, as: ByteBuffer.self).readableBytesView)
                )
            }
            guard let last = rows.last else { return }
            let accounts = Array(Set(rows.map(\.1)))
            guard sendMemory.apply(rows, reading: accounts, generation: generation, forgetMs: since) else { return }
            after = (last.1, last.0)
        }
    }

    /// A limited group's counts in one statement (one round trip, under the accounts' heads): one `send_log` row
    /// per account (its sends packed) with the account's new head as its `seq`, the parts added to cap counters and
    /// the sends to the pumping guard's buckets. Returns the log rows.
    @discardableResult
    func writeCounts(
        log: [String: (at: Int64, bytes: [UInt8])],
        heads: [String: Int64],
        caps: [String: [CapKey: (end: Int64, parts: Int)]],
        guarded: [String: [PumpingBucket: Int]],
        on c: PostgresConnection
    ) async throws -> [PostgresSendMemory.LogRow] {
        let entries = log.filter { !$0.value.bytes.isEmpty && heads[$0.key] != nil }.sorted { $0.key < $1.key }
        let capped = caps.flatMap { account, counters in counters.map { (account, $0.key, $0.value) } }
        let buckets = guarded.flatMap { account, sends in sends.map { (account, $0.key, Int64($0.value)) } }
        guard !entries.isEmpty || !capped.isEmpty || !buckets.isEmpty else { return [] }
        // (Data-modifying WITH parts run once whether or not the main statement reads them.)
        try await run(
            """
            WITH k AS (
                INSERT INTO cap_counts (account, country, span, start, ends, parts)
                SELECT a, c, s, t, e, p FROM unnest(\(capped.map(\.0))::text[], \(capped.map(\.1.country))::text[],
                    \(capped.map(\.1.window.rawValue))::text[], \(capped.map(\.1.start))::bigint[],
                    \(capped.map(\.2.end))::bigint[], \(capped.map { Int64($0.2.parts) })::bigint[]) AS x(a, c, s, t, e, p)
                ON CONFLICT (account, country, span, start) DO UPDATE SET parts = cap_counts.parts + excluded.parts
                RETURNING 1
            ), g AS (
                INSERT INTO pumping_counts (type, start, account, country, sent)
                SELECT t, s, a, c, n FROM unnest(\(buckets.map(\.0))::text[], \(buckets.map(\.1.type.rawValue))::text[],
                    \(buckets.map(\.1.start))::bigint[], \(buckets.map(\.1.country))::text[], \(buckets.map(\.2))::bigint[])
                    AS x(a, t, s, c, n)
                ON CONFLICT (type, start, account, country) DO UPDATE SET sent = pumping_counts.sent + excluded.sent
                RETURNING 1
            )
            INSERT INTO send_log (account, seq, at, sends)
            SELECT a, q, at, s FROM unnest(\(entries.map(\.key))::text[], \(entries.map { heads[$0.key] ?? 0 })::bigint[],
                \(entries.map(\.value.at))::bigint[], \(entries.map { ByteBuffer(bytes: $0.value.bytes) })::bytea[])
                AS x(a, q, at, s)
            """,
            on: c
        )
        return entries.map { (heads[$0.key] ?? 0, $0.key, $0.value.bytes) }
    }

    /// Moves `account`'s head on from `from` and writes a group's counts, in one statement; nil (nothing
    /// written) when another transaction moved the head since memory was at it. The head's row stays locked until
    /// COMMIT.
    func moveHead(
        _ account: String,
        from: (seq: Int64, token: Int64),
        to token: Int64,
        _ d: GroupDecision,
        on c: PostgresConnection
    ) async throws -> Int64? {
        let entry = d.log[account]
        let caps = Array(d.parts[account] ?? [:])
        let sends = Array(d.guarded[account] ?? [:])
        return try await first(
            """
            WITH h AS (
                UPDATE limit_heads SET seq = seq + 1, token = \(token)
                WHERE account = \(account) AND seq = \(from.seq) AND token = \(from.token) RETURNING seq
            ), l AS (
                INSERT INTO send_log (account, seq, at, sends)
                SELECT \(account), seq, \(entry?.at ?? 0), \(ByteBuffer(bytes: entry?.bytes ?? [])) FROM h
                WHERE \(entry != nil)
            ), k AS (
                INSERT INTO cap_counts (account, country, span, start, ends, parts)
                SELECT \(account), c, s, t, e, p FROM unnest(\(caps.map(\.key.country))::text[],
                    \(caps.map(\.key.window.rawValue))::text[], \(caps.map(\.key.start))::bigint[],
                    \(caps.map(\.value.end))::bigint[], \(caps.map { Int64($0.value.parts) })::bigint[]) AS x(c, s, t, e, p)
                WHERE EXISTS (SELECT 1 FROM h)
                ON CONFLICT (account, country, span, start) DO UPDATE SET parts = cap_counts.parts + excluded.parts
            ), g AS (
                INSERT INTO pumping_counts (type, start, account, country, sent)
                SELECT t, s, \(account), c, n FROM unnest(\(sends.map(\.key.type.rawValue))::text[],
                    \(sends.map(\.key.start))::bigint[], \(sends.map(\.key.country))::text[],
                    \(sends.map { Int64($0.value) })::bigint[]) AS x(t, s, c, n)
                WHERE EXISTS (SELECT 1 FROM h)
                ON CONFLICT (type, start, account, country) DO UPDATE SET sent = pumping_counts.sent + excluded.sent
            )
            SELECT seq FROM h
            """,
            on: c
        ) { try $0.get(0, as: Int64.self) }
    }

    /// The slow, exact way when memory could not hold the day: every log row of the accounts, streamed, keeping
    /// the sends to `numbers`.
    private func readLog(
        _ numbers: [String: Set<String>],
        since: Int64,
        into history: inout [String: [String: [LimitedSend]]],
        on c: PostgresConnection?
    ) async throws {
        let q: PostgresQuery =
            "SELECT account, sends FROM send_log WHERE account = ANY(\(Array(numbers.keys))::text[]) AND at > \(since)"
        do {
            let rows: PostgresRowSequence
            if let c {
                try Self.open(c)
                rows = try await c.query(q, logger: logger)
            } else {
                rows = try await client.query(q, logger: logger)
            }
            for try await row in rows {
                let (account, sends) = try row.decode((String, ByteBuffer).self)
                guard let wanted = numbers[account] else { continue }
                LimitMemory.decode(Array(sends.readableBytesView)) { to, packed in
                    guard SendMemory.atMs(packed) > since, wanted.contains(to), let send = SendMemory.unpack(packed)
                    else { return }
                    history[account, default: [:]][to, default: []].append(send)
                }
            }
        } catch {
            throw Self.storeError(error)
        }
    }

    /// Sends counted by versions before the log (one row per send), read by number, in chunks.
    private func readSendCounts(
        _ numbers: [String: Set<String>],
        since: Int64,
        into history: inout [String: [String: [LimitedSend]]],
        on c: PostgresConnection?
    ) async throws {
        let pairs = numbers.flatMap { account, recipients in recipients.map { (account, $0) } }
        var start = 0
        while start < pairs.count {
            let chunk = pairs[start..<min(start + 10_000, pairs.count)]
            start += chunk.count
            let rows = try await self.rows(
                """
                SELECT x.a, x.r, s.type, s.at
                FROM unnest(\(chunk.map(\.0))::text[], \(chunk.map(\.1))::text[]) AS x(a, r)
                CROSS JOIN LATERAL (
                    SELECT type, at FROM send_counts WHERE account = x.a AND recipient = x.r AND at > \(since)
                ) s
                """,
                on: c
            ) { row in
                (
                    try row.get(0, as: String.self), try row.get(1, as: String.self),
                    try row.get(2, as: String.self), try row.get(3, as: Int64.self)
                )
            }
            for (account, to, type, at) in rows {
                if let type = MessageType(rawValue: type) {
                    history[account, default: [:]][to, default: []].append(LimitedSend(type: type, atMs: at))
                }
            }
        }
    }
}
