#!/usr/bin/env bash
# The Statistics page (issue 30) over a store of N messages (default 1,000,000): made by `petrel serve`, then filled
# with sqlite3 (spread over the last 29 days: 5 accounts, 5 calling codes, 3 Types, 2 carriers, 85% delivered, 8%
# failed with 4 codes, 2% expired, 5% still queued). The counters are then rebuilt the way an upgrade builds them:
# the `v24-statistics` migration is undone and `serve` runs it again over the N messages (its time is printed).
# Then GET /console/statistics (an operator's view of every account: the default 7 days, and 30 days; one account;
# one account with a country) is timed RUNS times each with curl, then every other console page (overview, messages
# with each search and a page further back, a message's page, inbox, campaigns, receipts, channels, limits, keys,
# opt-out); prints the median and the slowest.
# Usage: bench/stats-page.sh [N=1000000] [RUNS=20]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}; RUNS=${2:-20}
BIN=${PETREL_BIN:-.build/release/petrel}
[ -n "${PETREL_BIN:-}" ] || swift build -c release --product petrel >/dev/null
WORK=$(mktemp -d /tmp/petrel-stats-bench.XXXXXX)
SERVER=
trap '[ -n "$SERVER" ] && kill $SERVER 2>/dev/null; wait 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT
export PETREL_ACCESS_KEY_ID=benchStatsKey PETREL_ACCESS_KEY_SECRET=benchStatsSecret1234

start_server() { # DIR
    "$BIN" serve --data-dir "$1" --listen 127.0.0.1:0 > "$1.log" 2>&1 &
    SERVER=$!
    for _ in $(seq 6000); do grep -q "listening on http://" "$1.log" && break; sleep 0.1; done
    URL=$(grep -o "http://[0-9.:]*" "$1.log" | head -1) || { echo "the server did not start:" >&2; cat "$1.log" >&2; exit 1; }
}
stop_server() { kill -INT $SERVER; wait $SERVER 2>/dev/null || true; SERVER=; }

start_server "$WORK/data"; stop_server
NOW=$(( $(date +%s) * 1000 ))
DB="$WORK/data/petrel.sqlite"
sqlite3 "$DB" <<SQL
CREATE TEMP TABLE params AS SELECT $N AS n, $NOW AS now;
BEGIN;
DROP INDEX messages_sx; DROP INDEX messages_fx;
ALTER TABLE messages DROP COLUMN sx; ALTER TABLE messages DROP COLUMN fx;
DROP TABLE stats_hours; DROP TABLE stats_errors; DROP TABLE stats_codes; DROP TABLE stats_fold;
DELETE FROM grdb_migrations WHERE identifier = 'v24-statistics';
WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < (SELECT n FROM params))
INSERT INTO messages (id, account, recipient, sender, body, type, task_id, requested_channel, priority, segments,
    encoding, status, error_code, error_desc, created_at, not_before, expires_at, sent_at, done_at, channel, carrier_id)
SELECT ((t - 1577836800000) << 20) + i % 1048576, CASE WHEN i % 5 = 0 THEN 'default' ELSE 'tenant' || (i % 5) END,
    CASE i % 5 WHEN 0 THEN '852' WHEN 1 THEN '65' WHEN 2 THEN '86' WHEN 3 THEN '44' ELSE '1' END
        || printf('%08d', 91000000 + i % 1000000), 'Petrel', 'Your code is ' || printf('%06d', i % 1000000), 
    CASE (i / 5) % 3 WHEN 0 THEN 'OTP' WHEN 1 THEN 'NOTIFY' ELSE 'MKT' END, 'seed', '', 1, 1 + (i % 7 = 0), 'GSM',
    s, CASE s WHEN 4 THEN 'E' || (i % 4) WHEN 5 THEN 'EXPIRED' ELSE '' END, '', t, t, NULL,
    CASE WHEN s = 0 OR s = 5 THEN NULL ELSE t + 50 END, CASE WHEN s >= 3 THEN t + 500 + (i % 90) * 1000 END,
    CASE WHEN s = 0 OR s = 5 THEN '' WHEN i % 2 = 0 THEN 'smsc-a' ELSE 'smsc-b' END, ''
FROM (SELECT i, (SELECT now FROM params) - (i * 2505600000 / (SELECT n FROM params)) AS t,
        CASE WHEN i % 100 < 85 THEN 3 WHEN i % 100 < 93 THEN 4 WHEN i % 100 < 95 THEN 5 ELSE 0 END AS s FROM seq);
COMMIT;
SQL
echo "seeded $(sqlite3 "$DB" "SELECT count(*) FROM messages") messages: $(du -m "$DB" | cut -f1) MB"
started=$(date +%s.%N)
start_server "$WORK/data"
echo "serve rebuilt the counters and listened after $(echo "$(date +%s.%N) - $started" | bc) s:" \
    "$(sqlite3 "$DB" "SELECT count(*) FROM stats_hours") counter rows, $(sqlite3 "$DB" "SELECT count(*) FROM stats_errors") error rows"
echo "counters say $(sqlite3 "$DB" "SELECT SUM(submitted), SUM(delivered), SUM(failed), SUM(expired) FROM stats_hours");" \
    "messages say $(sqlite3 "$DB" "SELECT COUNT(*), SUM(status = 3), SUM(status = 4), SUM(status = 5) FROM messages")"

JAR="$WORK/cookies"
TOKEN=$(curl -s -c "$JAR" "$URL/console/login" | grep -o 'name="csrf" value="[^"]*"' | head -1 | cut -d'"' -f4)
curl -s -b "$JAR" -c "$JAR" -o /dev/null -d "csrf=$TOKEN&key_id=$PETREL_ACCESS_KEY_ID&key_secret=$PETREL_ACCESS_KEY_SECRET" \
    "$URL/console/login"
FROM30=$(date -u -d '29 days ago' +%F); TODAY=$(date -u +%F)
for query in "" "from=$FROM30&to=$TODAY" "account=tenant1" "from=$FROM30&to=$TODAY&account=tenant2&country=86" \
    "format=csv&by=hour&from=$FROM30&to=$TODAY"; do
    code=$(curl -s -b "$JAR" -o "$WORK/page" -w '%{http_code}' "$URL/console/statistics?$query")
    [ "$code" = 200 ] && grep -q "submitted" "$WORK/page" || { echo "GET ?$query answered $code" >&2; exit 1; }
    times=$(for _ in $(seq "$RUNS"); do
        curl -s -b "$JAR" -o /dev/null -w '%{time_total}\n' "$URL/console/statistics?$query"; done | sort -n)
    median=$(echo "$times" | sed -n "$(( (RUNS + 1) / 2 ))p"); slowest=$(echo "$times" | tail -1)
    printf 'GET /console/statistics?%-60s median %4.0f ms, slowest %4.0f ms (%s bytes)\n' "$query" \
        "$(echo "$median * 1000" | bc)" "$(echo "$slowest * 1000" | bc)" "$(wc -c < "$WORK/page")"
done
# Every other page over the same million messages (the key's account, default, holds a fifth of them).
ID=$(sqlite3 "$DB" "SELECT id FROM messages WHERE account = 'default' ORDER BY id LIMIT 1 OFFSET 100000")
for path in "" "/messages" "/messages?to=9100012" "/messages?text=004242" "/messages?status=failed" \
    "/messages?before=$ID" "/messages/$ID" "/inbox" "/campaigns" "/receipts" "/channels" "/limits" "/keys" "/optout"; do
    code=$(curl -s -b "$JAR" -o "$WORK/page" -w '%{http_code}' "$URL/console$path")
    [ "$code" = 200 ] || { echo "GET /console$path answered $code" >&2; exit 1; }
    times=$(for _ in $(seq "$RUNS"); do
        curl -s -b "$JAR" -o /dev/null -w '%{time_total}\n' "$URL/console$path"; done | sort -n)
    median=$(echo "$times" | sed -n "$(( (RUNS + 1) / 2 ))p"); slowest=$(echo "$times" | tail -1)
    printf 'GET /console%-68s median %4.0f ms, slowest %4.0f ms (%s bytes)\n' "$path" \
        "$(echo "$median * 1000" | bc)" "$(echo "$slowest * 1000" | bc)" "$(wc -c < "$WORK/page")"
done
stop_server
