#!/usr/bin/env bash
# Retention's cost on acceptance: a SQLite store of N messages (default 2,000,000), half finished 40 days ago (past
# the default 30-day retention), half 1 day ago. Each run starts an accept-only `petrel serve` on a fresh copy of that
# store and drives one scenario (batch or single) with petrel-bench for D seconds, either with retention purging the
# old half in the background (`purge`) or with nothing to purge (`none`: retention of 3650 days); the two alternate,
# RUNS times each. Prints each run's rate and p99, how long the purge took, and the medians' ratios.
# A DURATION near the purge's own time (printed) measures acceptance during the purge alone.
# Environment: PURGE_BATCH (retention.batch, default 200), SCENARIOS (default "batch single"), WAIT_QUIET=1 (start
# each pair only while no compiler or test runs on the machine: other work's I/O slows fsyncs and skews the ratio).
# Usage: bench/purge.sh [N=2000000] [RUNS=3] [DURATION=40]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-2000000}; RUNS=${2:-3}; DURATION=${3:-40}
BIN=${PETREL_BIN:-.build/release/petrel}; BENCH=${PETREL_BENCH_BIN:-.build/release/petrel-bench}
[ -n "${PETREL_BIN:-}" ] || { swift build -c release --product petrel >/dev/null
    swift build -c release --product petrel-bench >/dev/null; }
WORK=$(mktemp -d /tmp/petrel-purge-bench.XXXXXX)
SERVER=
trap '[ -n "$SERVER" ] && kill $SERVER 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT
export PETREL_ACCESS_KEY_ID=benchPurgeKey PETREL_ACCESS_KEY_SECRET=benchPurgeSecret

start_server() { # DIR [CONFIG]
    "$BIN" serve --data-dir "$1" ${2:+--config "$2"} --listen 127.0.0.1:0 > "$1.log" 2>&1 &
    SERVER=$!
    for _ in $(seq 600); do grep -q "listening on http://" "$1.log" && break; sleep 0.1; done
    URL=$(grep -o "http://[0-9.:]*" "$1.log" | head -1) || { echo "the server did not start:" >&2; cat "$1.log" >&2; exit 1; }
}
stop_server() { kill -INT $SERVER; wait $SERVER 2>/dev/null || true; SERVER=; }

# The seeded store: made by serve (schema, key), then filled with sqlite3.
start_server "$WORK/seed"; stop_server
NOW=$(( $(date +%s) * 1000 ))
sqlite3 "$WORK/seed/petrel.sqlite" <<SQL
CREATE TEMP TABLE params AS SELECT $N AS n, $NOW AS now;
BEGIN;
WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < (SELECT n FROM params))
INSERT INTO messages (id, account, recipient, sender, body, type, task_id, requested_channel, priority, segments,
    encoding, status, error_code, error_desc, created_at, not_before, expires_at, sent_at, done_at, channel, carrier_id)
SELECT i, 'default', '852' || printf('%08d', 91000000 + i % 1000000), 'Petrel',
    'Your verification code is ' || printf('%06d', i % 1000000) || '. It expires in 5 minutes.', 'OTP', 'seed', '',
    1, 1, 'GSM', CASE WHEN i % 20 = 0 THEN 4 ELSE 3 END, CASE WHEN i % 20 = 0 THEN 'UNDELIV' ELSE 'DELIVERED' END, '',
    t, t, NULL, t + 50, t + 2000, 'smsc', printf('%x', i)
FROM (SELECT i, (SELECT now FROM params) - CASE WHEN i % 2 = 0 THEN 40 ELSE 1 END * 86400000 - i AS t FROM seq);
INSERT INTO message_events (message_id, at, status, detail)
SELECT id, done_at, 4, 'UNDELIV: undeliverable' FROM messages WHERE status = 4;
COMMIT;
SQL
SEEDED=$(sqlite3 "$WORK/seed/petrel.sqlite" "SELECT count(*) FROM messages")
[ "$SEEDED" = "$N" ] || { echo "seeding failed: $SEEDED messages" >&2; exit 1; }
echo "seeded $N messages: $(du -m "$WORK/seed/petrel.sqlite" | cut -f1) MB"

for mode in purge none; do
    days=$([ $mode = purge ] && echo 30d || echo 3650d)
    printf 'dispatcher: {enabled: false}\nretention: {messages: %s, every: 1s, batch: %s}\n' "$days" \
        "${PURGE_BATCH:-200}" > "$WORK/$mode.yaml"
done

run() { # SCENARIO MODE I
    local dir="$WORK/run"; rm -rf "$dir" "$dir.log"; cp -a "$WORK/seed" "$dir"
    start_server "$dir" "$WORK/$2.yaml"
    local t0; t0=$(date +%s.%N)
    if [ "$2" = purge ]; then ( # the purge's end: the server's own counter reaches the old half
        while sleep 0.5; do
            purged=$(curl -s "$URL/metrics" | awk '/^petrel_messages_purged_total/ {print $2}')
            [ -n "$purged" ] && [ "${purged%.*}" -ge $(( N / 2 )) ] && {
                python3 -c "import time; print(round(time.time() - $t0, 1))" > "$WORK/purged.$1.$2.$3"; break; }
        done
    ) & else sleep 1000000 & fi
    local watcher=$!
    "$BENCH" --url "$URL" --access-key-id "$PETREL_ACCESS_KEY_ID" --access-key-secret "$PETREL_ACCESS_KEY_SECRET" \
        --server-pid $SERVER --scenarios "$1" --duration "$DURATION" --json "$WORK/$1.$2.$3.json" | grep -v '^#' || true
    kill $watcher 2>/dev/null || true; wait $watcher 2>/dev/null || true
    stop_server
    local purged="-"; [ -f "$WORK/purged.$1.$2.$3" ] && purged=$(cat "$WORK/purged.$1.$2.$3")
    echo "$1 $2 run $3: purge finished after ${purged} s"
}
quiet() { [ -z "${WAIT_QUIET:-}" ] || while pgrep -f "swift-frontend|swift-build|pytest" >/dev/null; do sleep 5; done; }
for i in $(seq "$RUNS"); do
    for scenario in ${SCENARIOS:-batch single}; do quiet; run $scenario purge $i; run $scenario none $i; done
done
python3 - "$WORK" "$RUNS" "$DURATION" <<'PY'
import json, glob, statistics, sys, os
work, runs, duration = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
for scenario in [x for x in ("batch", "single") if glob.glob(f"{work}/{x}.*.json")]:
    med = {}
    for mode in ("purge", "none"):
        rows = [json.load(open(f)) for f in glob.glob(f"{work}/{scenario}.{mode}.*.json")]
        rows = [r[0] if isinstance(r, list) else r for r in rows]
        med[mode] = (statistics.median(r["recipientsPerSecond"] for r in rows), statistics.median(r["p99ms"] for r in rows))
    purged = [float(open(f).read()) for f in glob.glob(f"{work}/purged.{scenario}.purge.*")]
    print(f"{scenario}: purging {med['purge'][0]:.0f}/s p99 {med['purge'][1]:.2f} ms; without {med['none'][0]:.0f}/s "
          f"p99 {med['none'][1]:.2f} ms; rate ratio {med['purge'][0]/med['none'][0]:.2f}, p99 ratio "
          f"{med['purge'][1]/med['none'][1]:.2f}; purge of {len(purged)}/{runs} runs finished within {duration:.0f} s "
          f"(median {statistics.median(purged) if purged else float('nan'):.1f} s)")
PY
