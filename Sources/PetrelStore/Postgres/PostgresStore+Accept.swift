import Logging
import PetrelCore
import PostgresNIO

extension PostgresStore {
    /// A nonce and a request's messages (the hot path) can share one statement with other requests'.
    static func joinsGroup(_ batch: WriteBatch) -> Bool {
        batch.conversions.isEmpty && batch.conversionData.isEmpty && batch.campaign == nil
    }

    public func commit(_ batch: WriteBatch) async throws {
        guard !batch.isEmpty else { return }
        if Self.joinsGroup(batch) {
            // The hot path (a nonce and a request's messages): one statement with the requests that arrive with it.
            try await group.commit(batch)
            return
        }
        try await transaction { c in
            try await Self.insert(batch, client: self.client, on: c, logger: self.logger)
            for x in batch.conversions {
                // Before the report is stored: a message reported converted before counts once.
                try await self.countConversion(x, on: c)
                try await self.run(
                    """
                    INSERT INTO conversions (account, message_id, recipient, delivered, conversion_time, received_at)
                    VALUES (\(x.account), \(x.messageId), \(x.to), \(x.delivered), \(x.conversionTimeMs), \(x.receivedAtMs))
                    """,
                    on: c
                )
            }
            for d in batch.conversionData {
                try await self.run(
                    """
                    INSERT INTO conversion_data (account, rate, report_time, received_at)
                    VALUES (\(d.account), \(d.rate), \(d.reportTimeMs), \(d.receivedAtMs))
                    """,
                    on: c
                )
            }
            if let p = batch.campaign { try await self.write(p, on: c) }
        }
    }

    /// Requests' nonces and messages in one statement; returns the nonces stored (a message goes in only with
    /// its request's nonce, or without one).
    static func insert(
        _ batches: [WriteBatch],
        client: PostgresClient,
        on c: PostgresConnection? = nil,
        logger: Logger
    ) async throws -> Set<Int64> {
        Set(
            try await prepared(
                InsertGroupSQL.self,
                client: client,
                on: c,
                logger: logger,
                { InsertGroupSQL.bind(&$0, batches) }
            ) {
                try $0.get(0, as: Int64.self)
            }
        )
    }

    /// One request's nonce and messages; a nonce already used refuses them.
    static func insert(
        _ batch: WriteBatch,
        client: PostgresClient,
        on c: PostgresConnection? = nil,
        logger: Logger
    ) async throws {
        let stored = try await insert([batch], client: client, on: c, logger: logger)
        if let hash = batch.nonce?.hash, !stored.contains(hash) { throw StoreError.nonceUsed }
    }

    public func message(id: Int64, account: String) async throws -> Message? {
        try await first(
            "SELECT \(unescaped: Self.messageColumns) FROM messages WHERE id = \(id) AND account = \(account)"
        ) {
            try Self.message($0)
        }
    }

    public func events(messageId: Int64) async throws -> [MessageEvent] {
        try await rows(
            "SELECT message_id, status, at, detail FROM message_events WHERE message_id = \(messageId) AND kind = 0 ORDER BY at, seq"
        ) {
            MessageEvent(
                messageId: try $0.get(0),
                status: MessageStatus(rawValue: try $0.get(1)) ?? .queued,
                atMs: try $0.get(2),
                detail: try $0.get(3)
            )
        }
    }

    public func maxMessageId() async throws -> Int64 {
        try await first("SELECT COALESCE(MAX(id), 0) FROM messages") { try $0.get(0, as: Int64.self) } ?? 0
    }

    public func liveNonces(nowMs: Int64) async throws -> [NonceRecord] {
        try await rows("SELECT hash, expires_at FROM nonces WHERE expires_at >= \(nowMs)") {
            NonceRecord(hash: try $0.get(0), expiresAtMs: try $0.get(1))
        }
    }

    public func pruneNonces(nowMs: Int64) async throws -> Int {
        try await run("DELETE FROM nonces WHERE expires_at < \(nowMs) RETURNING 1")
    }

    public func conversions(account: String) async throws -> [ConversionRecord] {
        try await rows(
            """
            SELECT account, message_id, recipient, delivered, conversion_time, received_at FROM conversions
            WHERE account = \(account) ORDER BY seq
            """
        ) {
            ConversionRecord(
                account: try $0.get(0),
                messageId: try $0.get(1),
                to: try $0.get(2),
                delivered: try $0.get(3),
                conversionTimeMs: try $0.get(4),
                receivedAtMs: try $0.get(5)
            )
        }
    }

    public func conversionData(account: String) async throws -> [ConversionDataRecord] {
        try await rows(
            "SELECT account, rate, report_time, received_at FROM conversion_data WHERE account = \(account) ORDER BY seq"
        ) {
            ConversionDataRecord(
                account: try $0.get(0),
                rate: try $0.get(1),
                reportTimeMs: try $0.get(2),
                receivedAtMs: try $0.get(3)
            )
        }
    }

    static let messageColumns = StoreSQL.messageColumns

    static func messageColumns(_ alias: String) -> String { StoreSQL.messageColumns(alias) }

    static func message(_ r: PostgresRandomAccessRow, at o: Int = 0) throws -> Message {
        Message(
            id: try r.get(o),
            account: try r.get(o + 1),
            to: try r.get(o + 2),
            from: try r.get(o + 3),
            text: try r.get(o + 4),
            type: MessageType(rawValue: try r.get(o + 5)) ?? .notify,
            taskId: try r.get(o + 6),
            requestedChannel: try r.get(o + 7),
            priority: Priority(rawValue: try r.get(o + 8)) ?? .normal,
            segments: try r.get(o + 9),
            encoding: SMSText.Encoding(rawValue: try r.get(o + 10)) ?? .gsm7,
            status: MessageStatus(rawValue: try r.get(o + 11)) ?? .queued,
            errorCode: try r.get(o + 12),
            errorDescription: try r.get(o + 13),
            createdAtMs: try r.get(o + 14),
            notBeforeMs: try r.get(o + 15),
            expiresAtMs: try r.get(o + 16),
            sentAtMs: try r.get(o + 17),
            doneAtMs: try r.get(o + 18),
            channel: try r.get(o + 19),
            carrierMessageId: try r.get(o + 20),
            api: APIVersion(rawValue: Int(try r.get(o + 21, as: Int16.self))) ?? .intl,
            templateCode: try r.get(o + 22),
            bizId: try r.get(o + 23)
        )
    }
}
