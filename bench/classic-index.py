#!/usr/bin/env python3
"""What an index for dysmsapi 2017-05-25's QuerySendDetails costs SQLite on accept, and what it saves the query.

A `messages` table shaped as Petrel's (its columns and partial indexes, WAL, synchronous=NORMAL) takes batches
of 1,000 messages (100 rows per INSERT, one transaction per batch, as SQLiteStore's group commit writes them) and
single-message transactions, under three plans:
  none     the schema as it is (QuerySendDetails scans the day's ids of every account by primary key),
  account  messages(account, id) on every message,
  classic  messages(recipient, id) WHERE api = 1: only 2017-05-25's messages enter it,
  classic-account  messages(account, id) WHERE api = 1: the same, keyed by account (ids arrive in order).
Each plan's time is the median of ROUNDS rounds, the plans interleaved (the machine is shared). Run:
    python3 bench/classic-index.py [MESSAGES] [ROUNDS]
This is SQLite alone, through Python's sqlite3: an index's share of a whole accept (HTTP, signature, the
gateway) is smaller than its share here."""
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time

N = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 3
SINGLES = 20_000
SCHEMA = """
CREATE TABLE messages (id INTEGER PRIMARY KEY, account TEXT NOT NULL, recipient TEXT NOT NULL, sender TEXT NOT NULL,
  body TEXT NOT NULL, type TEXT NOT NULL, task_id TEXT NOT NULL, requested_channel TEXT NOT NULL,
  priority INTEGER NOT NULL, segments INTEGER NOT NULL, encoding TEXT NOT NULL, status INTEGER NOT NULL,
  error_code TEXT NOT NULL, error_desc TEXT NOT NULL, created_at INTEGER NOT NULL, not_before INTEGER NOT NULL,
  expires_at INTEGER, sent_at INTEGER, done_at INTEGER, channel TEXT NOT NULL DEFAULT '',
  carrier_id TEXT NOT NULL DEFAULT '', lease_until INTEGER, receipt_due INTEGER, receipt_status INTEGER,
  receipt_code TEXT, receipt_desc TEXT, api INTEGER NOT NULL DEFAULT 0, template_code TEXT NOT NULL DEFAULT '',
  biz_id INTEGER NOT NULL DEFAULT 0, ext_code TEXT NOT NULL DEFAULT '');
CREATE INDEX messages_queue ON messages(priority, not_before) WHERE status = 0;
CREATE INDEX messages_expiry ON messages(expires_at) WHERE status = 0 AND expires_at IS NOT NULL;
CREATE INDEX messages_leases ON messages(lease_until) WHERE status = 1;
CREATE INDEX messages_receipt_due ON messages(receipt_due) WHERE receipt_due IS NOT NULL;
CREATE INDEX messages_carrier ON messages(channel, carrier_id) WHERE carrier_id != '';
CREATE INDEX messages_final_done ON messages(account, done_at) WHERE status >= 3;
CREATE INDEX messages_unredacted ON messages(account, type, done_at) WHERE status >= 3 AND body != '';
CREATE INDEX messages_sent_to ON messages(recipient, sent_at) WHERE sent_at IS NOT NULL;
"""
PLANS = {
    "none": "",
    "account": "CREATE INDEX messages_account ON messages(account, id);",
    "classic": "CREATE INDEX messages_classic ON messages(recipient, id) WHERE api = 1;",
    "classic-account": "CREATE INDEX messages_classic ON messages(account, id) WHERE api = 1;",
}
COLUMNS = ("id, account, recipient, sender, body, type, task_id, requested_channel, priority, segments, encoding, "
           "status, error_code, error_desc, created_at, not_before, expires_at, api, template_code, biz_id, ext_code")
PER_INSERT = 100
INSERT = (f"INSERT INTO messages ({COLUMNS}) VALUES "
          + ",".join(["(" + ",".join("?" * 21) + ")"] * PER_INSERT))
INSERT1 = f"INSERT INTO messages ({COLUMNS}) VALUES (" + ",".join("?" * 21) + ")"
DAY0 = 1_800_000_000_000


def row(i, api, rng):
    at = DAY0 + i
    account = f"acct{rng.randrange(20)}"
    return (i << 10, account, f"86138{rng.randrange(10**8):08d}", "", "【Petrel】Your code is 123456", "NOTIFY", "",
            "", 1, 1, "gsm7", 0, "", "", at, at, at + 172_800_000, api, "SMS_1", i << 10, "")


def open_db(plan):
    path = os.path.join(tempfile.mkdtemp(prefix="classic-index-"), "petrel.sqlite")
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("PRAGMA cache_size = -65536")
    db.executescript(SCHEMA + PLANS[plan])
    return db


def batches(plan, api, rng):
    db = open_db(plan)
    start = time.perf_counter()
    for b in range(0, N, 1000):
        db.execute("BEGIN")
        for k in range(b, b + 1000, PER_INSERT):
            db.execute(INSERT, [v for i in range(k, k + PER_INSERT) for v in row(i, api, rng)])
        db.execute("COMMIT")
    return N / (time.perf_counter() - start), db


def singles(db, api, rng):
    start = time.perf_counter()
    for i in range(N, N + SINGLES):
        db.execute("BEGIN")
        db.execute(INSERT1, row(i, api, rng))
        db.execute("COMMIT")
    return SINGLES / (time.perf_counter() - start)


def details(db):
    """QuerySendDetails' count and page for one number and one day (the whole table is that day)."""
    number = db.execute("SELECT recipient FROM messages WHERE id = ?", ((N // 2) << 10,)).fetchone()[0]
    sql = ("SELECT COUNT(*) FROM messages WHERE account = ? AND recipient = ? AND api = 1 AND id BETWEEN ? AND ?")
    start = time.perf_counter()
    for _ in range(20):
        db.execute(sql, ("acct3", number, 0, (N + SINGLES) << 10)).fetchone()
    return (time.perf_counter() - start) / 20 * 1000


def main():
    rng = random.Random(7)
    results = {}
    for _ in range(ROUNDS):
        for plan in PLANS:
            for api in (0, 1):
                rate, db = batches(plan, api, rng)
                single = singles(db, api, rng)
                query = details(db) if api == 1 else None
                results.setdefault((plan, api), []).append((rate, single, query))
                db.close()
    print(f"{N} messages in batches of 1000, then {SINGLES} single-message transactions; median of {ROUNDS}")
    print(f"{'plan':16} {'api':10} {'batch msg/s':>12} {'single msg/s':>13} {'details ms':>11}")
    for (plan, api), runs in results.items():
        rate = statistics.median(r[0] for r in runs)
        single = statistics.median(r[1] for r in runs)
        queries = [r[2] for r in runs if r[2] is not None]
        q = f"{statistics.median(queries):11.2f}" if queries else f"{'':11}"
        print(f"{plan:16} {'2017-05-25' if api else '2018-05-01':10} {rate:12.0f} {single:13.0f} {q}")


if __name__ == "__main__":
    main()
