import Foundation
import PetrelCore

/// Versioned schema of the PostgreSQL store, the same tables as SQLite's plus what sharing among nodes needs
/// (lease owners, node registry, a unique nonce). Migrations only ever append; each runs in its own transaction
/// under an advisory lock, so nodes that start together migrate once.
enum PostgresSchema {
    // Statuses as the migrations spell them (see `MessageStatus.sql`); an applied migration's text must not change.
    private static let queued = MessageStatus.queued.sql
    private static let submitting = MessageStatus.submitting.sql
    private static let finals = MessageStatus.finalList
    private static let finalFloor = MessageStatus.finalFloor

    static let lockKey: Int64 = 0x7065_7472_656c  // "petrel"

    /// A migration's statements, one at a time (a prepared statement holds one): split at `;` outside `--`
    /// comments and `$$` bodies.
    static func statements(_ sql: String) -> [String] {
        var out: [String] = []
        var current = ""
        var inBody = false
        var inComment = false
        var previous: Character = " "
        for ch in sql {
            if inComment {
                if ch == "\n" { inComment = false }
                previous = ch
                continue
            }
            if ch == "-" && previous == "-" && !inBody {
                current.removeLast()
                inComment = true
                continue
            }
            if ch == "$" && previous == "$" { inBody.toggle() }
            if ch == ";" && !inBody {
                let s = current.trimmingCharacters(in: .whitespacesAndNewlines)
                if !s.isEmpty { out.append(s) }
                current = ""
            } else {
                current.append(ch)
            }
            previous = ch
        }
        let rest = current.trimmingCharacters(in: .whitespacesAndNewlines)
        if !rest.isEmpty { out.append(rest) }
        return out
    }

    static let migrations: [(name: String, sql: String)] = [
        (
            "v1",
            """
            CREATE TABLE messages (
                id BIGINT PRIMARY KEY,
                account TEXT NOT NULL,
                recipient TEXT NOT NULL,
                sender TEXT NOT NULL,
                body TEXT NOT NULL,
                type TEXT NOT NULL,
                task_id TEXT NOT NULL,
                requested_channel TEXT NOT NULL,
                priority INT NOT NULL,
                segments INT NOT NULL,
                encoding TEXT NOT NULL,
                status INT NOT NULL,
                error_code TEXT NOT NULL,
                error_desc TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                not_before BIGINT NOT NULL,
                expires_at BIGINT,
                sent_at BIGINT,
                done_at BIGINT,
                channel TEXT NOT NULL DEFAULT '',
                carrier_id TEXT NOT NULL DEFAULT '',
                lease_until BIGINT,
                lease_owner INT,
                receipt_due BIGINT,
                receipt_status INT,
                receipt_code TEXT,
                receipt_desc TEXT
            );
            CREATE INDEX messages_queue ON messages(priority, not_before) WHERE status = \(queued);
            CREATE INDEX messages_expiry ON messages(expires_at) WHERE status = \(queued) AND expires_at IS NOT NULL;
            CREATE INDEX messages_leases ON messages(lease_until) WHERE status = \(submitting);
            CREATE INDEX messages_receipt_due ON messages(receipt_due) WHERE receipt_due IS NOT NULL;
            CREATE INDEX messages_carrier ON messages(channel, carrier_id) WHERE carrier_id <> '';
            CREATE INDEX messages_account ON messages(account, id);

            CREATE TABLE message_events (
                seq BIGSERIAL PRIMARY KEY,
                message_id BIGINT NOT NULL,
                at BIGINT NOT NULL,
                status INT NOT NULL,
                detail TEXT NOT NULL
            );
            CREATE INDEX message_events_message ON message_events(message_id);

            -- Unique across every node: a nonce used on one node is refused on all (the commit fails).
            CREATE TABLE nonces (hash BIGINT PRIMARY KEY, expires_at BIGINT NOT NULL);
            CREATE INDEX nonces_expiry ON nonces(expires_at);

            CREATE TABLE access_keys (
                id TEXT PRIMARY KEY,
                secret BYTEA NOT NULL,
                account TEXT NOT NULL,
                name TEXT NOT NULL,
                enabled BOOLEAN NOT NULL,
                policy TEXT,
                created_at BIGINT NOT NULL
            );

            CREATE TABLE templates (
                account TEXT NOT NULL,
                code TEXT NOT NULL,
                body TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                PRIMARY KEY (account, code)
            );

            CREATE TABLE conversions (
                seq BIGSERIAL PRIMARY KEY,
                account TEXT NOT NULL,
                message_id BIGINT,
                recipient TEXT NOT NULL,
                delivered BOOLEAN NOT NULL,
                conversion_time BIGINT,
                received_at BIGINT NOT NULL
            );
            CREATE TABLE conversion_data (
                seq BIGSERIAL PRIMARY KEY,
                account TEXT NOT NULL,
                rate DOUBLE PRECISION NOT NULL,
                report_time BIGINT,
                received_at BIGINT NOT NULL
            );

            CREATE TABLE sandbox_inbox (
                seq BIGSERIAL PRIMARY KEY,
                message_id BIGINT NOT NULL,
                account TEXT NOT NULL,
                recipient TEXT NOT NULL,
                sender TEXT NOT NULL,
                body TEXT NOT NULL,
                segments INT NOT NULL,
                received_at BIGINT NOT NULL,
                outcome TEXT NOT NULL
            );

            CREATE TABLE message_parts (
                message_id BIGINT NOT NULL,
                part INT NOT NULL,
                total INT NOT NULL,
                channel TEXT NOT NULL,
                carrier_id TEXT NOT NULL,
                status INT NOT NULL,
                error_code TEXT NOT NULL DEFAULT '',
                sent_at BIGINT NOT NULL,
                done_at BIGINT,
                PRIMARY KEY (message_id, part)
            );
            CREATE INDEX message_parts_carrier ON message_parts(channel, carrier_id);

            CREATE TABLE orphan_receipts (
                seq BIGSERIAL PRIMARY KEY,
                channel TEXT NOT NULL,
                carrier_id TEXT NOT NULL,
                status INT NOT NULL,
                error_code TEXT NOT NULL,
                received_at BIGINT NOT NULL
            );
            CREATE INDEX orphan_receipts_carrier ON orphan_receipts(channel, carrier_id);

            CREATE TABLE accounts (
                name TEXT PRIMARY KEY,
                receipt_url TEXT NOT NULL,
                webhook_secret BYTEA NOT NULL,
                updated_at BIGINT NOT NULL
            );

            -- state 0 waits for next_at (a node pushing a receipt moves next_at forward: its lease), 1 is parked.
            CREATE TABLE receipt_outbox (
                id BIGSERIAL PRIMARY KEY,
                account TEXT NOT NULL,
                message_id BIGINT NOT NULL,
                created_at BIGINT NOT NULL,
                next_at BIGINT NOT NULL,
                attempts INT NOT NULL DEFAULT 0,
                state INT NOT NULL DEFAULT 0,
                last_error TEXT NOT NULL DEFAULT ''
            );
            CREATE INDEX receipt_outbox_due ON receipt_outbox(account, next_at) WHERE state = 0;
            CREATE INDEX receipt_outbox_parked ON receipt_outbox(account) WHERE state = 1;

            -- As in SQLite: the first final state of a message enters the outbox in the transaction that sets it.
            CREATE FUNCTION messages_final_receipt() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF EXISTS (SELECT 1 FROM accounts WHERE name = NEW.account AND receipt_url <> '') THEN
                    INSERT INTO receipt_outbox (account, message_id, created_at, next_at)
                    VALUES (NEW.account, NEW.id, COALESCE(NEW.done_at, 0), COALESCE(NEW.done_at, 0));
                END IF;
                RETURN NULL;
            END $$;
            CREATE TRIGGER messages_final_receipt AFTER UPDATE OF status ON messages FOR EACH ROW
                WHEN (NEW.status IN (\(finals)) AND OLD.status NOT IN (\(finals)))
                EXECUTE FUNCTION messages_final_receipt();

            CREATE TABLE campaigns (
                id BIGSERIAL PRIMARY KEY,
                account TEXT NOT NULL,
                name TEXT NOT NULL,
                body TEXT NOT NULL,
                type TEXT NOT NULL,
                sender TEXT NOT NULL,
                validity BIGINT,
                task_id TEXT NOT NULL,
                start_at BIGINT,
                status TEXT NOT NULL,
                total_rows BIGINT NOT NULL,
                valid_rows BIGINT NOT NULL,
                invalid_rows BIGINT NOT NULL,
                parts BIGINT NOT NULL,
                cursor BIGINT NOT NULL,
                accepted BIGINT NOT NULL,
                failed BIGINT NOT NULL,
                invalid_report TEXT NOT NULL,
                segments_summary TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL
            );
            CREATE INDEX campaigns_account ON campaigns(account, id);
            CREATE TABLE campaign_reports (campaign_id BIGINT PRIMARY KEY, report TEXT NOT NULL);
            CREATE TABLE campaign_rows (
                campaign_id BIGINT NOT NULL,
                row BIGINT NOT NULL,
                recipient TEXT NOT NULL,
                body TEXT NOT NULL,
                PRIMARY KEY (campaign_id, row)
            );

            -- Nodes sharing the database: each takes a number (the node field of its message ids) and keeps it
            -- alive with a heartbeat; a number whose heartbeat stopped can be taken by a new node.
            CREATE TABLE nodes (
                id INT PRIMARY KEY,
                name TEXT NOT NULL UNIQUE,
                heartbeat BIGINT NOT NULL
            );
            """
        ),
        (
            "v2-bind-slots",
            """
            -- A channel's binds across all nodes: a node binds only with a slot it holds (and renews).
            CREATE TABLE bind_slots (
                channel TEXT NOT NULL,
                slot INT NOT NULL,
                node INT NOT NULL,
                until BIGINT NOT NULL,
                PRIMARY KEY (channel, slot)
            );
            """
        ),
        (
            "v3-fewer-message-indexes",
            """
            -- A message row is rewritten three times (claimed, sent, final) and none of those updates is HOT (status
            -- is in the partial indexes' predicates), so every index costs an entry per update: the account index
            -- cost more than the console's account searches gain (they walk the primary key by time, as in SQLite).
            DROP INDEX IF EXISTS messages_account;
            """
        ),
        (
            "v4-settings",
            """
            -- Facts about the store itself, e.g. its master key's fingerprint.
            CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
            """
        ),
        (
            "v5-campaign-values",
            """
            -- Rows hold their CSV values, filled into the text when sent (a row's text is no longer stored).
            ALTER TABLE campaigns ADD COLUMN columns TEXT;
            ALTER TABLE campaigns ADD COLUMN rendered_bytes BIGINT NOT NULL DEFAULT 0;
            """
        ),
        (
            "v6-retention",
            """
            -- Purging and redaction find rows by account (and type) and finish time (as SQLite's v9-retention): partial on final
            -- rows, so a message enters them once, when it becomes final; claim and sent updates skip them.
            CREATE INDEX messages_final_done ON messages(account, done_at) WHERE status >= \(finalFloor);
            CREATE INDEX messages_unredacted ON messages(account, type, done_at) WHERE status >= \(finalFloor) AND body <> '';
            CREATE INDEX sandbox_inbox_account_time ON sandbox_inbox(account, received_at);
            CREATE INDEX conversions_account_time ON conversions(account, received_at);
            CREATE INDEX conversion_data_account_time ON conversion_data(account, received_at);
            """
        ),
        (
            "v7-history",
            """
            -- Events for what no column holds (retries, lease requeues, receipt pushes): kind is a HistoryEventKind
            -- (0, the default, is a failure or expiry as recorded before), until is when it goes on.
            ALTER TABLE message_events ADD COLUMN kind INT NOT NULL DEFAULT 0;
            ALTER TABLE message_events ADD COLUMN until BIGINT;
            """
        ),
        (
            "v8-limits",
            """
            -- Sends counted by limits.perNumber, per account and recipient, for the last day (pruned past it).
            CREATE TABLE send_counts (
                account TEXT NOT NULL,
                recipient TEXT NOT NULL,
                type TEXT NOT NULL,
                at BIGINT NOT NULL
            );
            CREATE INDEX send_counts_number ON send_counts (account, recipient, at);
            """
        ),
        (
            "v9-caps",
            """
            -- limits.caps: parts accepted per account, country ('' = all), calendar window and period.
            CREATE TABLE cap_counts (
                account TEXT NOT NULL,
                country TEXT NOT NULL,
                span TEXT NOT NULL,
                start BIGINT NOT NULL,
                ends BIGINT NOT NULL,
                parts BIGINT NOT NULL,
                PRIMARY KEY (account, country, span, start)
            );
            """
        ),
        (
            "v10-send-counts-at",
            """
            -- The prune of send_counts finds its old rows by time, in batches, instead of scanning the table.
            CREATE INDEX send_counts_at ON send_counts (at);
            """
        ),
        (
            "v11-pumping",
            """
            -- limits.pumpingGuard: sends and conversions per Type, bucket, account and country (keyed in that order:
            -- the watch reads one Type's buckets since a time); halts per account, country and Type, kept after a
            -- lift (lifted_at: the pair counts again from then); conversions found by message to count one once.
            CREATE TABLE pumping_counts (
                type TEXT NOT NULL,
                start BIGINT NOT NULL,
                account TEXT NOT NULL,
                country TEXT NOT NULL,
                sent BIGINT NOT NULL DEFAULT 0,
                converted BIGINT NOT NULL DEFAULT 0,
                PRIMARY KEY (type, start, account, country)
            );
            CREATE TABLE pumping_halts (
                account TEXT NOT NULL,
                country TEXT NOT NULL,
                type TEXT NOT NULL,
                halted_at BIGINT NOT NULL,
                sent BIGINT NOT NULL,
                converted BIGINT NOT NULL,
                lifted_at BIGINT,
                PRIMARY KEY (account, country, type)
            );
            CREATE INDEX conversions_message ON conversions (account, message_id);
            """
        ),
        (
            "v12-api-version",
            """
            -- The API a message came through (APIVersion: 0 is 2018-05-01, as every message before), and for
            -- 2017-05-25 the template it was rendered from and its request's BizId, for QuerySendDetails and that
            -- version's receipts.
            ALTER TABLE messages ADD COLUMN api SMALLINT NOT NULL DEFAULT 0;
            ALTER TABLE messages ADD COLUMN template_code TEXT NOT NULL DEFAULT '';
            ALTER TABLE messages ADD COLUMN biz_id BIGINT NOT NULL DEFAULT 0;
            """
        ),
        (
            "v13-inbound",
            """
            -- Inbound messages (issue 24). inbound_parts: every part as delivered, pending (done = 0) until its
            -- message is made, then kept for the duplicate window by its fingerprint. inbound_outbox: as
            -- receipt_outbox. The sent-messages index finds the account that last sent to a phone (a reply's owner).
            ALTER TABLE accounts ADD COLUMN mo_url TEXT NOT NULL DEFAULT '';
            CREATE TABLE inbound_parts (
                id BIGSERIAL PRIMARY KEY,
                fingerprint BIGINT NOT NULL,
                group_key TEXT NOT NULL,
                seq INT NOT NULL,
                total INT NOT NULL,
                channel TEXT NOT NULL,
                sender TEXT NOT NULL,
                dest TEXT NOT NULL,
                data_coding INT NOT NULL,
                body BYTEA NOT NULL,
                account TEXT,
                received_at BIGINT NOT NULL,
                done BOOLEAN NOT NULL DEFAULT false
            );
            CREATE INDEX inbound_parts_fingerprint ON inbound_parts(fingerprint);
            CREATE INDEX inbound_parts_pending ON inbound_parts(group_key) WHERE NOT done;
            CREATE INDEX inbound_parts_waiting ON inbound_parts(received_at) WHERE NOT done;
            CREATE INDEX inbound_parts_done ON inbound_parts(received_at) WHERE done;
            CREATE TABLE inbound (
                id BIGSERIAL PRIMARY KEY,
                account TEXT NOT NULL,
                sender TEXT NOT NULL,
                dest TEXT NOT NULL,
                text TEXT NOT NULL,
                encoding TEXT NOT NULL,
                parts INT NOT NULL,
                incomplete BOOLEAN NOT NULL,
                channel TEXT NOT NULL,
                received_at BIGINT NOT NULL
            );
            CREATE INDEX inbound_account ON inbound(account, id);
            CREATE INDEX inbound_sender ON inbound(sender, id);
            CREATE TABLE inbound_outbox (
                id BIGSERIAL PRIMARY KEY,
                account TEXT NOT NULL,
                inbound_id BIGINT NOT NULL,
                attempts INT NOT NULL DEFAULT 0,
                created_at BIGINT NOT NULL,
                next_at BIGINT NOT NULL,
                last_error TEXT NOT NULL DEFAULT '',
                state INT NOT NULL DEFAULT 0
            );
            CREATE INDEX inbound_outbox_due ON inbound_outbox(account, next_at) WHERE state = 0;
            CREATE INDEX messages_sent_to ON messages(recipient, sent_at) WHERE sent_at IS NOT NULL;
            """
        ),
        (
            "v14-send-log",
            """
            -- limits.perNumber and caps count in each node's memory, kept exact across nodes by a head per account
            -- and a log. Each limited transaction moves its accounts' heads on by one (locking their rows until
            -- COMMIT) and writes its counted sends as one send_log row per account, with the head as seq and the
            -- sends packed as in the SQLite store's send_log. send_counts is only read, for the sends older versions
            -- counted, until the prune empties it. petrel_fail aborts a statement (a nonce used before).
            CREATE TABLE limit_heads (
                account TEXT PRIMARY KEY,
                seq BIGINT NOT NULL
            );
            CREATE TABLE send_log (
                account TEXT NOT NULL,
                seq BIGINT NOT NULL,
                at BIGINT NOT NULL,
                sends BYTEA NOT NULL,
                PRIMARY KEY (account, seq)
            );
            CREATE INDEX send_log_at ON send_log (at);
            CREATE FUNCTION petrel_fail(why TEXT) RETURNS BIGINT LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION USING ERRCODE = 'PT001', MESSAGE = why;
            END
            $$;
            """
        ),
        (
            "v15-optout",
            """
            -- Suppression lists (issue 24, opt-out). optout_state's one row gives every change its version (its row
            -- lock makes writers on all nodes take turns, so versions commit in order) and counts the phones listed;
            -- a phone taken off keeps its row (opted_out false) until every node has read it.
            CREATE TABLE optout_state (
                id INT PRIMARY KEY CHECK (id = 1),
                version BIGINT NOT NULL,
                phones BIGINT NOT NULL
            );
            INSERT INTO optout_state VALUES (1, 0, 0);
            CREATE TABLE optouts (
                account TEXT NOT NULL,
                phone TEXT NOT NULL,
                opted_out BOOLEAN NOT NULL,
                source TEXT NOT NULL,
                changed_at BIGINT NOT NULL,
                version BIGINT NOT NULL,
                PRIMARY KEY (account, phone)
            );
            CREATE INDEX optouts_version ON optouts(version, account, phone);
            CREATE INDEX optouts_listed ON optouts(changed_at) WHERE opted_out;
            CREATE INDEX optouts_taken_off ON optouts(changed_at) WHERE NOT opted_out;
            -- inbound_outbox keeps pushed rows (state 2) for the console, found by their message.
            CREATE INDEX inbound_outbox_inbound ON inbound_outbox(inbound_id);
            """
        ),
        (
            "v16-signs-templates",
            """
            -- dysmsapi 2017-05-25's signs and templates: templates gain its name, type, remark and the operator's
            -- audit (every template before was the operator's own, so approved); signs are new.
            ALTER TABLE templates ADD COLUMN name TEXT NOT NULL DEFAULT '';
            ALTER TABLE templates ADD COLUMN kind SMALLINT NOT NULL DEFAULT 1;
            ALTER TABLE templates ADD COLUMN remark TEXT NOT NULL DEFAULT '';
            ALTER TABLE templates ADD COLUMN audit SMALLINT NOT NULL DEFAULT 1;
            ALTER TABLE templates ADD COLUMN reason TEXT NOT NULL DEFAULT '';
            ALTER TABLE templates ADD COLUMN audited_at BIGINT;
            CREATE TABLE signs (
                account TEXT NOT NULL,
                name TEXT NOT NULL,
                source SMALLINT NOT NULL,
                kind SMALLINT NOT NULL,
                remark TEXT NOT NULL,
                audit SMALLINT NOT NULL,
                reason TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                audited_at BIGINT,
                PRIMARY KEY (account, name)
            );
            """
        ),
        (
            "v17-extend-code",
            """
            -- 2017-05-25's SmsUpExtendCode of each message, and of an inbound message the one of the message it
            -- replies to (SmsUp's dest_code).
            ALTER TABLE messages ADD COLUMN ext_code TEXT NOT NULL DEFAULT '';
            ALTER TABLE inbound ADD COLUMN dest_code TEXT NOT NULL DEFAULT '';
            """
        ),
        (
            "v18-head-token",
            """
            -- A random token with each head move: a head number can be taken twice (a transaction counted in memory
            -- before a COMMIT that failed, and another's), a token never is; memory decides only at a head whose
            -- token it made.
            ALTER TABLE limit_heads ADD COLUMN token BIGINT NOT NULL DEFAULT 0;
            """
        ),
        (
            "v19-smpp-users",
            """
            -- Credentials ESMEs bind to the SMPP server with (issue 29); the password is sealed like key secrets.
            CREATE TABLE smpp_users (
                system_id TEXT PRIMARY KEY,
                password BYTEA NOT NULL,
                account TEXT NOT NULL,
                max_binds BIGINT,
                tps BIGINT,
                allow_ip TEXT NOT NULL,
                enabled BOOLEAN NOT NULL,
                created_at BIGINT NOT NULL
            );
            """
        ),
        (
            "v20-smpp-receipts",
            """
            -- Receipts owed to ESMEs as deliver_sm (issue 29), as in SQLite: ready from the transaction that makes
            -- the message final, next_at the lease of the node sending it.
            CREATE TABLE smpp_receipts (
                message_id BIGINT PRIMARY KEY,
                account TEXT NOT NULL,
                failures_only BOOLEAN NOT NULL,
                ready BOOLEAN NOT NULL,
                next_at BIGINT NOT NULL
            );
            CREATE INDEX smpp_receipts_ready ON smpp_receipts(account, next_at) WHERE ready;
            CREATE FUNCTION messages_final_smpp_receipt() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                UPDATE smpp_receipts SET ready = true WHERE message_id = NEW.id;
                RETURN NULL;
            END $$;
            CREATE TRIGGER messages_final_smpp_receipt AFTER UPDATE OF status ON messages FOR EACH ROW
                WHEN (NEW.status >= \(MessageStatus.finalFloor) AND OLD.status < \(MessageStatus.finalFloor))
                EXECUTE FUNCTION messages_final_smpp_receipt();
            """
        ),
        (
            "v21-smpp-mo",
            """
            -- Inbound messages owed to ESMEs as deliver_sm (issue 29), as in SQLite: a row for each inbound message
            -- of an account that has an SMPP user, from the transaction that stores it; next_at the lease.
            CREATE TABLE smpp_mo (
                inbound_id BIGINT PRIMARY KEY,
                account TEXT NOT NULL,
                next_at BIGINT NOT NULL
            );
            CREATE INDEX smpp_mo_ready ON smpp_mo(account, next_at);
            CREATE INDEX smpp_users_account ON smpp_users(account);
            CREATE FUNCTION inbound_smpp_mo() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF EXISTS (SELECT 1 FROM smpp_users WHERE account = NEW.account) THEN
                    INSERT INTO smpp_mo (inbound_id, account, next_at) VALUES (NEW.id, NEW.account, 0);
                END IF;
                RETURN NULL;
            END $$;
            CREATE TRIGGER inbound_smpp_mo AFTER INSERT ON inbound FOR EACH ROW EXECUTE FUNCTION inbound_smpp_mo();
            """
        ),
        (
            "v22-smpp-receipts-waiting",
            """
            -- As in SQLite: the console counts an account's receipts whose message is not final yet over an index
            -- range instead of every row (ready ones have smpp_receipts_ready).
            CREATE INDEX smpp_receipts_waiting ON smpp_receipts(account) WHERE NOT ready;
            """
        ),
        ("v23-statistics", statistics),
        (
            "v24-campaign-outcomes",
            """
            -- As SQLite's v25-campaign-outcomes: a campaign's span of message ids and its delivered / failed / expired
            -- counts, added by the statistics fold (nothing on the accept or dispatch path, no index on messages).
            CREATE TABLE campaign_outcomes (campaign_id BIGINT PRIMARY KEY, account TEXT NOT NULL, task TEXT NOT NULL,
                first_message BIGINT NOT NULL, last_message BIGINT NOT NULL, delivered BIGINT NOT NULL DEFAULT 0,
                failed BIGINT NOT NULL DEFAULT 0, expired BIGINT NOT NULL DEFAULT 0);
            CREATE INDEX campaign_outcomes_task ON campaign_outcomes(account, task, first_message);
            """
        ),
        (
            "v25-push-log",
            """
            -- As SQLite's v26-push-log: the console's log of recent pushes, every node's, trimmed per account on write.
            CREATE TABLE push_log (id BIGSERIAL PRIMARY KEY, account TEXT NOT NULL, at BIGINT NOT NULL, node TEXT NOT NULL,
                kind TEXT NOT NULL, url TEXT NOT NULL, items INT NOT NULL, attempt INT NOT NULL, problem TEXT);
            CREATE INDEX push_log_account ON push_log(account, id);
            """
        ),
    ]

    /// Statistics counters (issue 30), as SQLite's `v24-statistics`, folded off the hot path
    /// (`PostgresStore.foldStatistics`): a message carries the id of the transaction that stored it (`sx`, a
    /// column default) and of the one that made it final (`fx`, set by that UPDATE); the fold counts the
    /// transactions from its cursor up to the oldest one still running. Filled from the messages already stored
    /// (their `sx` and `fx` stay NULL).
    static let statistics: String = {
        let codes = CallingCode.all.map { "('\($0)')" }.joined(separator: ", ")
        let d = StatsSQL.deliveryColumns
        let delivered = MessageStatus.delivered.rawValue
        let failed = MessageStatus.failed.rawValue
        let expired = MessageStatus.expired.rawValue
        let ms = "(COALESCE(m.done_at, m.created_at) - m.created_at)"
        let edges = StatsCounts.edgesSeconds.enumerated().map { "WHEN \(ms) <= \($0.element * 1000) THEN \($0.offset)" }
        let bucket = "CASE \(edges.joined(separator: " ")) ELSE \(StatsCounts.edgesSeconds.count) END"
        let columns =
            "account, hour, country, type, channel, submitted, parts, delivered, failed, expired, "
            + d.joined(separator: ", ")
        /// Sums over rows `m` (of messages' columns) for the counter columns after the key.
        func sums(submittedWhen: String) -> String {
            let buckets = d.indices.map { "COUNT(*) FILTER (WHERE m.status = \(delivered) AND \(bucket) = \($0))" }
            return """
                COUNT(*) FILTER (WHERE \(submittedWhen)), COALESCE(SUM(m.segments) FILTER (WHERE \(submittedWhen)), 0),
                COUNT(*) FILTER (WHERE m.status = \(delivered)), COUNT(*) FILTER (WHERE m.status = \(failed)),
                COUNT(*) FILTER (WHERE m.status = \(expired)), \(buckets.joined(separator: ", "))
                """
        }
        let key = "m.account, (m.created_at / 3600000) * 3600000, stats_code(m.recipient), m.type"
        return """
            CREATE TABLE stats_codes (code TEXT PRIMARY KEY);
            INSERT INTO stats_codes (code) VALUES \(codes);
            CREATE FUNCTION stats_code(r TEXT) RETURNS TEXT LANGUAGE sql STABLE AS $$
                SELECT COALESCE((SELECT code FROM stats_codes
                    WHERE code IN (substr(r, 1, 1), substr(r, 1, 2), substr(r, 1, 3))), '')
            $$;
            CREATE TABLE stats_hours (account TEXT NOT NULL, hour BIGINT NOT NULL, country TEXT NOT NULL,
                type TEXT NOT NULL, channel TEXT NOT NULL, submitted BIGINT NOT NULL DEFAULT 0,
                parts BIGINT NOT NULL DEFAULT 0, delivered BIGINT NOT NULL DEFAULT 0, failed BIGINT NOT NULL DEFAULT 0,
                expired BIGINT NOT NULL DEFAULT 0,
                \(d.map { "\($0) BIGINT NOT NULL DEFAULT 0" }.joined(separator: ", ")),
                PRIMARY KEY (account, hour, country, type, channel));
            CREATE INDEX stats_hours_hour ON stats_hours(hour);
            CREATE TABLE stats_errors (account TEXT NOT NULL, hour BIGINT NOT NULL, country TEXT NOT NULL,
                type TEXT NOT NULL, channel TEXT NOT NULL, code TEXT NOT NULL, n BIGINT NOT NULL,
                PRIMARY KEY (account, hour, country, type, channel, code));
            CREATE INDEX stats_errors_hour ON stats_errors(hour);
            -- Every transaction below last is counted. The one row is locked by a fold: two nodes never fold at once.
            CREATE TABLE stats_fold (id INT PRIMARY KEY CHECK (id = 0), last xid8 NOT NULL);
            INSERT INTO stats_fold (id, last) VALUES (0, '0');
            -- No rewrite of the table: the rows already stored keep NULL (counted below), new ones get the default.
            ALTER TABLE messages ADD COLUMN sx xid8, ADD COLUMN fx xid8;
            ALTER TABLE messages ALTER COLUMN sx SET DEFAULT pg_current_xact_id();
            CREATE INDEX messages_sx ON messages(sx) WHERE sx IS NOT NULL;
            CREATE INDEX messages_fx ON messages(fx) WHERE fx IS NOT NULL;
            INSERT INTO stats_hours (\(columns))
            SELECT \(key), m.channel, \(sums(submittedWhen: "true"))
            FROM messages m WHERE m.status >= \(finalFloor) GROUP BY 1, 2, 3, 4, 5;
            INSERT INTO stats_hours (account, hour, country, type, channel, submitted, parts)
            SELECT \(key), '', COUNT(*), SUM(m.segments) FROM messages m WHERE m.status < \(finalFloor)
            GROUP BY 1, 2, 3, 4
            ON CONFLICT (account, hour, country, type, channel) DO UPDATE SET
                submitted = stats_hours.submitted + EXCLUDED.submitted, parts = stats_hours.parts + EXCLUDED.parts;
            INSERT INTO stats_errors (account, hour, country, type, channel, code, n)
            SELECT \(key), m.channel, m.error_code, COUNT(*) FROM messages m
            WHERE m.status > \(delivered) AND m.error_code <> '' GROUP BY 1, 2, 3, 4, 5, 6
            """
    }()
}
