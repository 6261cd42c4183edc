import GRDB
import PetrelCore

/// Versioned schema of the SQLite store. Migrations only ever append.
enum SQLiteSchema {
    // Statuses as the migrations spell them (see `MessageStatus.sql`); an applied migration's text must not change.
    private static let queued = MessageStatus.queued.sql
    private static let submitting = MessageStatus.submitting.sql
    private static let finals = MessageStatus.finalList
    private static let finalFloor = MessageStatus.finalFloor

    static func migrator() -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE messages (
                        id INTEGER PRIMARY KEY,
                        account TEXT NOT NULL,
                        recipient TEXT NOT NULL,
                        sender TEXT NOT NULL,
                        body TEXT NOT NULL,
                        type TEXT NOT NULL,
                        task_id TEXT NOT NULL,
                        requested_channel TEXT NOT NULL,
                        priority INTEGER NOT NULL,
                        segments INTEGER NOT NULL,
                        encoding TEXT NOT NULL,
                        status INTEGER NOT NULL,
                        error_code TEXT NOT NULL,
                        error_desc TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        not_before INTEGER NOT NULL,
                        expires_at INTEGER,
                        sent_at INTEGER,
                        done_at INTEGER,
                        channel TEXT NOT NULL DEFAULT '',
                        carrier_id TEXT NOT NULL DEFAULT '',
                        lease_until INTEGER,
                        receipt_due INTEGER,
                        receipt_status INTEGER,
                        receipt_code TEXT,
                        receipt_desc TEXT
                    );
                    CREATE INDEX messages_queue ON messages(priority, not_before) WHERE status = \(queued);
                    CREATE INDEX messages_expiry ON messages(expires_at) WHERE status = \(queued) AND expires_at IS NOT NULL;
                    CREATE INDEX messages_leases ON messages(lease_until) WHERE status = \(submitting);
                    CREATE INDEX messages_receipt_due ON messages(receipt_due) WHERE receipt_due IS NOT NULL;

                    CREATE TABLE message_events (
                        message_id INTEGER NOT NULL,
                        at INTEGER NOT NULL,
                        status INTEGER NOT NULL,
                        detail TEXT NOT NULL
                    );
                    CREATE INDEX message_events_message ON message_events(message_id);

                    -- An append-only log: the replay check itself runs in memory (NonceGuard); this table only
                    -- refills that memory after a restart. A key on the random hash would dirty a random page
                    -- per request; rows in arrival order (and an index on a nearly increasing expiry) do not.
                    CREATE TABLE nonces (hash INTEGER NOT NULL, expires_at INTEGER NOT NULL);
                    CREATE INDEX nonces_expiry ON nonces(expires_at);

                    CREATE TABLE access_keys (
                        id TEXT PRIMARY KEY,
                        secret BLOB NOT NULL,
                        account TEXT NOT NULL,
                        name TEXT NOT NULL,
                        enabled INTEGER NOT NULL,
                        policy TEXT,
                        created_at INTEGER NOT NULL
                    );

                    CREATE TABLE templates (
                        account TEXT NOT NULL,
                        code TEXT NOT NULL,
                        body TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        PRIMARY KEY (account, code)
                    );

                    CREATE TABLE conversions (
                        account TEXT NOT NULL,
                        message_id INTEGER,
                        recipient TEXT NOT NULL,
                        delivered INTEGER NOT NULL,
                        conversion_time INTEGER,
                        received_at INTEGER NOT NULL
                    );
                    CREATE TABLE conversion_data (
                        account TEXT NOT NULL,
                        rate REAL NOT NULL,
                        report_time INTEGER,
                        received_at INTEGER NOT NULL
                    );

                    CREATE TABLE sandbox_inbox (
                        message_id INTEGER NOT NULL,
                        account TEXT NOT NULL,
                        recipient TEXT NOT NULL,
                        sender TEXT NOT NULL,
                        body TEXT NOT NULL,
                        segments INTEGER NOT NULL,
                        received_at INTEGER NOT NULL,
                        outcome TEXT NOT NULL
                    );
                    """
            )
        }
        migrator.registerMigration("v2-parts") { db in
            try db.execute(
                sql: """
                    -- One row per submit_sm a carrier accepted: long messages are tracked part by part.
                    CREATE TABLE message_parts (
                        message_id INTEGER NOT NULL,
                        part INTEGER NOT NULL,
                        total INTEGER NOT NULL,
                        channel TEXT NOT NULL,
                        carrier_id TEXT NOT NULL,
                        status INTEGER NOT NULL,
                        error_code TEXT NOT NULL DEFAULT '',
                        sent_at INTEGER NOT NULL,
                        done_at INTEGER,
                        PRIMARY KEY (message_id, part)
                    ) WITHOUT ROWID;
                    CREATE INDEX message_parts_carrier ON message_parts(channel, carrier_id);

                    -- Receipts whose message id matched nothing (yet): a receipt may overtake its submit_sm_resp.
                    CREATE TABLE orphan_receipts (
                        channel TEXT NOT NULL,
                        carrier_id TEXT NOT NULL,
                        status INTEGER NOT NULL,
                        error_code TEXT NOT NULL,
                        received_at INTEGER NOT NULL
                    );
                    CREATE INDEX orphan_receipts_carrier ON orphan_receipts(channel, carrier_id);
                    """
            )
        }
        migrator.registerMigration("v3-carrier-index") { db in
            // Single-part messages (most) carry their carrier id on the row: a receipt is one indexed UPDATE.
            try db.execute(sql: "CREATE INDEX messages_carrier ON messages(channel, carrier_id) WHERE carrier_id != ''")
        }
        migrator.registerMigration("v4-receipt-outbox") { db in
            try db.execute(
                sql: """
                    CREATE TABLE accounts (
                        name TEXT PRIMARY KEY,
                        receipt_url TEXT NOT NULL,
                        webhook_secret BLOB NOT NULL,
                        updated_at INTEGER NOT NULL
                    );

                    -- Receipts to push. state 0 waits for next_at, 1 is parked. A pushed receipt is deleted.
                    CREATE TABLE receipt_outbox (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        account TEXT NOT NULL,
                        message_id INTEGER NOT NULL,
                        created_at INTEGER NOT NULL,
                        next_at INTEGER NOT NULL,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        state INTEGER NOT NULL DEFAULT 0,
                        last_error TEXT NOT NULL DEFAULT ''
                    );
                    CREATE INDEX receipt_outbox_due ON receipt_outbox(account, next_at) WHERE state = 0;
                    CREATE INDEX receipt_outbox_parked ON receipt_outbox(account) WHERE state = 1;

                    -- Every path to a final state (carrier receipts, failures, expiry, the sandbox) goes through an
                    -- UPDATE of messages.status: the receipt enters the outbox in that same transaction. Only the
                    -- first final state is reported, so a customer never sees a message go back.
                    CREATE TRIGGER messages_final_receipt AFTER UPDATE OF status ON messages
                    WHEN NEW.status IN (\(finals)) AND OLD.status NOT IN (\(finals))
                    BEGIN
                        INSERT INTO receipt_outbox (account, message_id, created_at, next_at)
                        SELECT NEW.account, NEW.id, COALESCE(NEW.done_at, 0), COALESCE(NEW.done_at, 0)
                        WHERE EXISTS (SELECT 1 FROM accounts WHERE name = NEW.account AND receipt_url != '');
                    END;
                    """
            )
        }
        migrator.registerMigration("v5-campaigns") { db in
            try db.execute(
                sql: """
                    CREATE TABLE campaigns (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        account TEXT NOT NULL,
                        name TEXT NOT NULL,
                        body TEXT NOT NULL,
                        type TEXT NOT NULL,
                        sender TEXT NOT NULL,
                        validity INTEGER,
                        task_id TEXT NOT NULL,
                        start_at INTEGER,
                        status TEXT NOT NULL,
                        total_rows INTEGER NOT NULL,
                        valid_rows INTEGER NOT NULL,
                        invalid_rows INTEGER NOT NULL,
                        parts INTEGER NOT NULL,
                        cursor INTEGER NOT NULL,
                        accepted INTEGER NOT NULL,
                        failed INTEGER NOT NULL,
                        invalid_report TEXT NOT NULL,
                        segments_summary TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL
                    );
                    CREATE INDEX campaigns_account ON campaigns(account, id);
                    -- The whole list of invalid rows (campaigns.invalid_report keeps its first lines): megabytes
                    -- for a big upload, read only when someone downloads it.
                    CREATE TABLE campaign_reports (campaign_id INTEGER PRIMARY KEY, report TEXT NOT NULL);

                    -- A campaign's valid rows, texts filled in, sent in row order; deleted once it is done.
                    CREATE TABLE campaign_rows (
                        campaign_id INTEGER NOT NULL,
                        row INTEGER NOT NULL,
                        recipient TEXT NOT NULL,
                        body TEXT NOT NULL,
                        PRIMARY KEY (campaign_id, row)
                    ) WITHOUT ROWID;
                    """
            )
        }
        migrator.registerMigration("v6-receipt-trigger-ranges") { db in
            // Same trigger, ranges instead of IN lists: SQLite builds an ephemeral b-tree for each `IN (…)` every
            // time the trigger fires, and it fires on every status change (claim, sent, final).
            try db.execute(
                sql: """
                    DROP TRIGGER messages_final_receipt;
                    CREATE TRIGGER messages_final_receipt AFTER UPDATE OF status ON messages
                    WHEN NEW.status >= \(finalFloor) AND OLD.status < \(finalFloor)
                    BEGIN
                        INSERT INTO receipt_outbox (account, message_id, created_at, next_at)
                        SELECT NEW.account, NEW.id, COALESCE(NEW.done_at, 0), COALESCE(NEW.done_at, 0)
                        WHERE EXISTS (SELECT 1 FROM accounts WHERE name = NEW.account AND receipt_url != '');
                    END;
                    """
            )
        }
        migrator.registerMigration("v7-settings") { db in
            // Facts about the store itself, e.g. its master key's fingerprint.
            try db.execute(sql: "CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID")
        }
        migrator.registerMigration("v8-campaign-values") { db in
            // Rows hold their CSV values, filled into the text when sent (a row's text is no longer stored).
            try db.execute(sql: "ALTER TABLE campaigns ADD COLUMN columns TEXT")
            try db.execute(sql: "ALTER TABLE campaigns ADD COLUMN rendered_bytes INTEGER NOT NULL DEFAULT 0")
        }
        migrator.registerMigration("v9-retention") { db in
            try db.execute(sql: SQLiteSchema.retentionIndexes)
        }
        migrator.registerMigration("v10-history") { db in
            // Events for what no column holds (retries, lease requeues, receipt pushes): `kind` is a
            // HistoryEventKind (0, the default, is a failure or expiry as recorded before), `until` when it goes on.
            try db.execute(sql: "ALTER TABLE message_events ADD COLUMN kind INTEGER NOT NULL DEFAULT 0")
            try db.execute(sql: "ALTER TABLE message_events ADD COLUMN until INTEGER")
        }
        migrator.registerMigration("v11-limits") { db in
            // Sends counted by limits.perNumber, per account and recipient, for the last day (pruned past it).
            try db.execute(
                sql: """
                    CREATE TABLE send_counts (account TEXT NOT NULL, recipient TEXT NOT NULL, type TEXT NOT NULL,
                        at INTEGER NOT NULL);
                    CREATE INDEX send_counts_number ON send_counts (account, recipient, at);
                    """
            )
        }
        migrator.registerMigration("v12-caps") { db in
            // limits.caps: parts accepted per account, country ("" = all), calendar window and period.
            try db.execute(
                sql: """
                    CREATE TABLE cap_counts (account TEXT NOT NULL, country TEXT NOT NULL, span TEXT NOT NULL,
                        start INTEGER NOT NULL, ends INTEGER NOT NULL, parts INTEGER NOT NULL,
                        PRIMARY KEY (account, country, span, start));
                    """
            )
        }
        migrator.registerMigration("v13-pumping") { db in
            // limits.pumpingGuard: sends and conversions per Type, bucket, account and country (keyed in that
            // order: the watch reads one Type's buckets since a time); halts per account, country and Type, kept
            // after a lift (lifted_at: the pair counts again from then); conversions found by message to count a
            // message converted once.
            try db.execute(
                sql: """
                    CREATE TABLE pumping_counts (type TEXT NOT NULL, start INTEGER NOT NULL, account TEXT NOT NULL,
                        country TEXT NOT NULL, sent INTEGER NOT NULL DEFAULT 0, converted INTEGER NOT NULL DEFAULT 0,
                        PRIMARY KEY (type, start, account, country)) WITHOUT ROWID;
                    CREATE TABLE pumping_halts (account TEXT NOT NULL, country TEXT NOT NULL, type TEXT NOT NULL,
                        halted_at INTEGER NOT NULL, sent INTEGER NOT NULL, converted INTEGER NOT NULL, lifted_at INTEGER,
                        PRIMARY KEY (account, country, type));
                    CREATE INDEX conversions_message ON conversions (account, message_id);
                    """
            )
        }
        migrator.registerMigration("v14-send-log") { db in
            // limits.perNumber's sends as counted in memory (LimitMemory): one row per account and transaction, its
            // sends packed in a blob, read back at start; in arrival order, pruned from the front. send_counts
            // (indexed by number) now holds only what memory had no room for.
            try db.execute(
                sql: "CREATE TABLE send_log (at INTEGER NOT NULL, account TEXT NOT NULL, sends BLOB NOT NULL)"
            )
        }
        migrator.registerMigration("v15-api-version") { db in
            // The API a message came through (APIVersion: 0 is 2018-05-01, as every message before), and for
            // 2017-05-25 the template it was rendered from and its request's BizId, for QuerySendDetails and that
            // version's receipts.
            try db.execute(sql: "ALTER TABLE messages ADD COLUMN api INTEGER NOT NULL DEFAULT 0")
            try db.execute(sql: "ALTER TABLE messages ADD COLUMN template_code TEXT NOT NULL DEFAULT ''")
            try db.execute(sql: "ALTER TABLE messages ADD COLUMN biz_id INTEGER NOT NULL DEFAULT 0")
        }
        migrator.registerMigration("v16-inbound") { db in
            // Inbound messages (issue 24). inbound_parts: every part as delivered, pending (done = 0) until its
            // message is made, then kept for the duplicate window by its fingerprint. inbound_outbox: as
            // receipt_outbox. The sent-messages index finds the account that last sent to a phone (a reply's owner);
            // a message enters it when it is sent, not when it is accepted.
            try db.execute(
                sql: """
                    ALTER TABLE accounts ADD COLUMN mo_url TEXT NOT NULL DEFAULT '';
                    CREATE TABLE inbound_parts (id INTEGER PRIMARY KEY, fingerprint INTEGER NOT NULL,
                        group_key TEXT NOT NULL, seq INTEGER NOT NULL, total INTEGER NOT NULL, channel TEXT NOT NULL,
                        sender TEXT NOT NULL, dest TEXT NOT NULL, data_coding INTEGER NOT NULL, body BLOB NOT NULL,
                        account TEXT, received_at INTEGER NOT NULL, done INTEGER NOT NULL DEFAULT 0);
                    CREATE INDEX inbound_parts_fingerprint ON inbound_parts(fingerprint);
                    CREATE INDEX inbound_parts_pending ON inbound_parts(group_key) WHERE done = 0;
                    CREATE INDEX inbound_parts_waiting ON inbound_parts(received_at) WHERE done = 0;
                    CREATE INDEX inbound_parts_done ON inbound_parts(received_at) WHERE done = 1;
                    CREATE TABLE inbound (id INTEGER PRIMARY KEY, account TEXT NOT NULL, sender TEXT NOT NULL,
                        dest TEXT NOT NULL, text TEXT NOT NULL, encoding TEXT NOT NULL, parts INTEGER NOT NULL,
                        incomplete INTEGER NOT NULL, channel TEXT NOT NULL, received_at INTEGER NOT NULL);
                    CREATE INDEX inbound_account ON inbound(account, id);
                    CREATE INDEX inbound_sender ON inbound(sender, id);
                    CREATE TABLE inbound_outbox (id INTEGER PRIMARY KEY, account TEXT NOT NULL,
                        inbound_id INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL,
                        next_at INTEGER NOT NULL, last_error TEXT NOT NULL DEFAULT '', state INTEGER NOT NULL DEFAULT 0);
                    CREATE INDEX inbound_outbox_due ON inbound_outbox(account, next_at) WHERE state = 0;
                    CREATE INDEX messages_sent_to ON messages(recipient, sent_at) WHERE sent_at IS NOT NULL;
                    """
            )
        }
        migrator.registerMigration("v17-optout") { db in
            // Suppression lists (issue 24, opt-out). optout_state's one row gives every change its version and counts
            // the phones listed; a phone taken off keeps its row (opted_out = 0) until other nodes have read it.
            // inbound_outbox keeps pushed rows (state 2) for the console, found by their message.
            try db.execute(
                sql: """
                    CREATE TABLE optout_state (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL,
                        phones INTEGER NOT NULL);
                    INSERT INTO optout_state VALUES (1, 0, 0);
                    CREATE TABLE optouts (account TEXT NOT NULL, phone TEXT NOT NULL, opted_out INTEGER NOT NULL,
                        source TEXT NOT NULL, changed_at INTEGER NOT NULL, version INTEGER NOT NULL,
                        PRIMARY KEY (account, phone)) WITHOUT ROWID;
                    CREATE INDEX optouts_version ON optouts(version, account, phone);
                    CREATE INDEX optouts_listed ON optouts(changed_at) WHERE opted_out = 1;
                    CREATE INDEX optouts_taken_off ON optouts(changed_at) WHERE opted_out = 0;
                    CREATE INDEX inbound_outbox_inbound ON inbound_outbox(inbound_id);
                    """
            )
        }
        migrator.registerMigration("v18-signs-templates") { db in
            // dysmsapi 2017-05-25's signs and templates: templates gain its name, type, remark and the operator's
            // audit (every template before was the operator's own, so approved); signs are new.
            try db.execute(
                sql: """
                    ALTER TABLE templates ADD COLUMN name TEXT NOT NULL DEFAULT '';
                    ALTER TABLE templates ADD COLUMN kind INTEGER NOT NULL DEFAULT 1;
                    ALTER TABLE templates ADD COLUMN remark TEXT NOT NULL DEFAULT '';
                    ALTER TABLE templates ADD COLUMN audit INTEGER NOT NULL DEFAULT 1;
                    ALTER TABLE templates ADD COLUMN reason TEXT NOT NULL DEFAULT '';
                    ALTER TABLE templates ADD COLUMN audited_at INTEGER;
                    CREATE TABLE signs (account TEXT NOT NULL, name TEXT NOT NULL, source INTEGER NOT NULL,
                        kind INTEGER NOT NULL, remark TEXT NOT NULL, audit INTEGER NOT NULL, reason TEXT NOT NULL,
                        created_at INTEGER NOT NULL, audited_at INTEGER, PRIMARY KEY (account, name));
                    """
            )
        }
        migrator.registerMigration("v19-extend-code") { db in
            // 2017-05-25's SmsUpExtendCode of each message, and of an inbound message the one of the message it
            // replies to (SmsUp's dest_code).
            try db.execute(
                sql: """
                    ALTER TABLE messages ADD COLUMN ext_code TEXT NOT NULL DEFAULT '';
                    ALTER TABLE inbound ADD COLUMN dest_code TEXT NOT NULL DEFAULT '';
                    """
            )
        }
        migrator.registerMigration("v20-smpp-users") { db in
            // Credentials ESMEs bind to the SMPP server with (issue 29); the password is sealed like key secrets.
            try db.execute(
                sql: """
                    CREATE TABLE smpp_users (system_id TEXT PRIMARY KEY, password BLOB NOT NULL, account TEXT NOT NULL,
                        max_binds INTEGER, tps INTEGER, allow_ip TEXT NOT NULL, enabled INTEGER NOT NULL,
                        created_at INTEGER NOT NULL);
                    """
            )
        }
        migrator.registerMigration("v21-smpp-receipts") { db in
            // Receipts owed to ESMEs as deliver_sm (issue 29). A row is written when an SMPP submission asks for
            // one; ready = 1 from the transaction that makes its message final (the trigger), next_at is the
            // lease of the node sending it.
            try db.execute(
                sql: """
                    CREATE TABLE smpp_receipts (message_id INTEGER PRIMARY KEY, account TEXT NOT NULL,
                        failures_only INTEGER NOT NULL, ready INTEGER NOT NULL, next_at INTEGER NOT NULL);
                    CREATE INDEX smpp_receipts_ready ON smpp_receipts(account, next_at) WHERE ready = 1;
                    CREATE TRIGGER messages_final_smpp_receipt AFTER UPDATE OF status ON messages
                    WHEN NEW.status >= \(finalFloor) AND OLD.status < \(finalFloor)
                    BEGIN
                        UPDATE smpp_receipts SET ready = 1 WHERE message_id = NEW.id;
                    END;
                    """
            )
        }
        migrator.registerMigration("v22-smpp-mo") { db in
            // Inbound messages owed to ESMEs as deliver_sm (issue 29): a row for each inbound message of an account
            // that has an SMPP user (enabled or not), written by the trigger in the transaction that stores it;
            // next_at is the lease of the node sending it. It leaves when acknowledged, or with its message.
            try db.execute(
                sql: """
                    CREATE TABLE smpp_mo (inbound_id INTEGER PRIMARY KEY, account TEXT NOT NULL,
                        next_at INTEGER NOT NULL);
                    CREATE INDEX smpp_mo_ready ON smpp_mo(account, next_at);
                    CREATE INDEX smpp_users_account ON smpp_users(account);
                    CREATE TRIGGER inbound_smpp_mo AFTER INSERT ON inbound
                    WHEN EXISTS (SELECT 1 FROM smpp_users WHERE account = NEW.account)
                    BEGIN
                        INSERT INTO smpp_mo (inbound_id, account, next_at) VALUES (NEW.id, NEW.account, 0);
                    END;
                    """
            )
        }
        migrator.registerMigration("v23-smpp-receipts-waiting") { db in
            // The console counts an account's receipts whose message is not final yet; with this index that is a
            // bounded index range instead of a scan of every row (ready ones have smpp_receipts_ready).
            try db.execute(sql: "CREATE INDEX smpp_receipts_waiting ON smpp_receipts(account) WHERE ready = 0")
        }
        migrator.registerMigration("v24-statistics") { db in
            // Statistics counters (issue 30, `StatisticsStore`): per account, hour of acceptance, calling code, Type
            // and channel, folded off the hot path (`SQLiteStore.foldStatistics`): a message carries the fold
            // epoch it was stored in (`sx`) and the one it became final in (`fx`); the fold counts the epochs since
            // its cursor. Filled from the messages already stored (their `sx` and `fx` stay NULL).
            try db.execute(sql: SQLiteSchema.statistics)
        }
        migrator.registerMigration("v25-campaign-outcomes") { db in
            // Per campaign: the span of message ids it sends with (noted by the campaign runner before each chunk
            // is stored) and its delivered / failed / expired counts, added by the statistics fold from the messages
            // made final since its cursor (found over messages_fx, then this table's index). Nothing on the
            // accept or dispatch path changes, and no index is added to messages. Campaigns sent before it have
            // no row (their outcomes are not counted).
            try db.execute(
                sql: """
                    CREATE TABLE campaign_outcomes (campaign_id INTEGER PRIMARY KEY, account TEXT NOT NULL,
                        task TEXT NOT NULL, first_message INTEGER NOT NULL, last_message INTEGER NOT NULL,
                        delivered INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0,
                        expired INTEGER NOT NULL DEFAULT 0);
                    CREATE INDEX campaign_outcomes_task ON campaign_outcomes(account, task, first_message);
                    """
            )
        }
        migrator.registerMigration("v26-push-log") { db in
            // The console's log of recent pushes (`PushLogStore`), shared by the nodes of a store: the newest
            // entries per account (trimmed on each write), newest = highest id.
            try db.execute(
                sql: """
                    CREATE TABLE push_log (id INTEGER PRIMARY KEY, account TEXT NOT NULL, at INTEGER NOT NULL,
                        node TEXT NOT NULL, kind TEXT NOT NULL, url TEXT NOT NULL, items INTEGER NOT NULL,
                        attempt INTEGER NOT NULL, problem TEXT);
                    CREATE INDEX push_log_account ON push_log(account, id);
                    """
            )
        }
        return migrator
    }

    /// `v24-statistics`' tables, fold cursor, message columns and fill.
    static let statistics: String = {
        let codes = CallingCode.all.map { "('\($0)')" }.joined(separator: ", ")
        let d = StatsSQL.deliveryColumns
        let delivered = MessageStatus.delivered.rawValue
        return """
            CREATE TABLE stats_codes (code TEXT PRIMARY KEY) WITHOUT ROWID;
            INSERT INTO stats_codes (code) VALUES \(codes);
            CREATE TABLE stats_hours (account TEXT NOT NULL, hour INTEGER NOT NULL, country TEXT NOT NULL,
                type TEXT NOT NULL, channel TEXT NOT NULL, submitted INTEGER NOT NULL DEFAULT 0,
                parts INTEGER NOT NULL DEFAULT 0, delivered INTEGER NOT NULL DEFAULT 0,
                failed INTEGER NOT NULL DEFAULT 0, expired INTEGER NOT NULL DEFAULT 0,
                \(d.map { "\($0) INTEGER NOT NULL DEFAULT 0" }.joined(separator: ", ")),
                PRIMARY KEY (account, hour, country, type, channel)) WITHOUT ROWID;
            CREATE INDEX stats_hours_hour ON stats_hours(hour);
            CREATE TABLE stats_errors (account TEXT NOT NULL, hour INTEGER NOT NULL, country TEXT NOT NULL,
                type TEXT NOT NULL, channel TEXT NOT NULL, code TEXT NOT NULL, n INTEGER NOT NULL,
                PRIMARY KEY (account, hour, country, type, channel, code)) WITHOUT ROWID;
            CREATE INDEX stats_errors_hour ON stats_errors(hour);
            -- epoch: what the writer stamps now; folded: every epoch below it is counted.
            CREATE TABLE stats_fold (id INTEGER PRIMARY KEY CHECK (id = 0), epoch INTEGER NOT NULL,
                folded INTEGER NOT NULL);
            INSERT INTO stats_fold (id, epoch, folded) VALUES (0, 1, 1);
            ALTER TABLE messages ADD COLUMN sx INTEGER;
            ALTER TABLE messages ADD COLUMN fx INTEGER;
            CREATE INDEX messages_sx ON messages(sx) WHERE sx IS NOT NULL;
            CREATE INDEX messages_fx ON messages(fx) WHERE fx IS NOT NULL;
            \(statsUpsert(from: "messages", submittedWhen: "1", group: true));
            INSERT INTO stats_hours (account, hour, country, type, channel, submitted, parts)
            SELECT account, (created_at / 3600000) * 3600000, \(codeOf("recipient")), type, '', COUNT(*), SUM(segments)
            FROM messages WHERE status < \(finalFloor) GROUP BY 1, 2, 3, 4
            ON CONFLICT (account, hour, country, type, channel) DO UPDATE SET
                submitted = submitted + excluded.submitted, parts = parts + excluded.parts;
            INSERT INTO stats_errors (account, hour, country, type, channel, code, n)
            SELECT account, (created_at / 3600000) * 3600000, \(codeOf("recipient")), type, channel, error_code,
                COUNT(*)
            FROM messages WHERE status > \(delivered) AND error_code != '' GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1;
            """
    }()

    /// The calling code `recipient` starts with, "" for none (as `CallingCode.of`).
    static func codeOf(_ recipient: String) -> String {
        """
        COALESCE((SELECT code FROM stats_codes WHERE code IN (substr(\(recipient), 1, 1), substr(\(recipient), 1, 2),
            substr(\(recipient), 1, 3))), '')
        """
    }

    /// Counts the final messages of `from` (rows `m`: account, created_at, recipient, type, channel, status,
    /// segments, done_at) into `stats_hours`: their outcome and delivery bucket, and as submitted where
    /// `submittedWhen` holds.
    static func statsUpsert(from: String, submittedWhen: String, group: Bool) -> String {
        let d = StatsSQL.deliveryColumns
        let ms = "(COALESCE(m.done_at, m.created_at) - m.created_at)"
        let edges = StatsCounts.edgesSeconds.enumerated().map { "WHEN \(ms) <= \($0.element * 1000) THEN \($0.offset)" }
        let bucket = "CASE \(edges.joined(separator: " ")) ELSE \(StatsCounts.edgesSeconds.count) END"
        let delivered = MessageStatus.delivered.rawValue
        func sum(_ e: String) -> String { group ? "SUM(\(e))" : "(\(e))" }
        let buckets = d.indices.map { sum("status = \(delivered) AND b = \($0)") }.joined(separator: ", ")
        return """
            INSERT INTO stats_hours (account, hour, country, type, channel, submitted, parts, delivered, failed, expired,
                \(d.joined(separator: ", ")))
            SELECT account, hour, country, type, channel, \(sum("CASE WHEN \(submittedWhen) THEN 1 ELSE 0 END")),
                \(sum("CASE WHEN \(submittedWhen) THEN segments ELSE 0 END")), \(sum("status = \(delivered)")),
                \(sum("status = \(MessageStatus.failed.rawValue)")), \(sum("status = \(MessageStatus.expired.rawValue)")),
                \(buckets)
            FROM (SELECT m.account, (m.created_at / 3600000) * 3600000 AS hour, \(codeOf("m.recipient")) AS country,
                    m.type, m.channel, m.status, m.segments, \(bucket) AS b
                FROM \(from) m WHERE m.status >= \(finalFloor)) m
            WHERE 1 \(group ? "GROUP BY account, hour, country, type, channel" : "")
            ON CONFLICT (account, hour, country, type, channel) DO UPDATE SET
                submitted = submitted + excluded.submitted, parts = parts + excluded.parts,
                delivered = delivered + excluded.delivered, failed = failed + excluded.failed,
                expired = expired + excluded.expired,
                \(d.map { "\($0) = \($0) + excluded.\($0)" }.joined(separator: ", "))
            """
    }

    /// Purging and redaction find rows by account (and type, for `redactOnFinal`) and finish time. Both message
    /// indexes are partial on final rows, so a message enters them once, when it becomes final (and leaves the
    /// second when redacted): the accept, claim and sent updates never touch them. The sandbox inbox is written
    /// once per sandbox delivery.
    static let retentionIndexes = """
        CREATE INDEX messages_final_done ON messages(account, done_at) WHERE status >= \(finalFloor);
        CREATE INDEX messages_unredacted ON messages(account, type, done_at) WHERE status >= \(finalFloor) AND body != '';
        CREATE INDEX sandbox_inbox_account_time ON sandbox_inbox(account, received_at);
        CREATE INDEX conversions_account_time ON conversions(account, received_at);
        CREATE INDEX conversion_data_account_time ON conversion_data(account, received_at);
        """
}
