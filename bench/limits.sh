#!/usr/bin/env bash
# Sending limits' cost on acceptance (issue 23): accept-only `petrel serve` runs with the issue's example `limits:`
# (perNumber by Type, allowNumbers, countries, caps, pumpingGuard; the caps raised so that a run counts against them
# without reaching them) and without any `limits:`, alternately, each on a fresh store, driven by petrel-bench
# (4 connections of 1,000-recipient NOTIFY batches, or 64 connections of single OTPs, to distinct numbers: the
# limits are checked and counted, none refuses). Prints each run, the messages each stored, and the medians' ratios.
# STORE=postgres runs on a throwaway PostgreSQL server (scripts/postgres.sh), a fresh database per run.
# Environment: SCENARIOS (default "batch single"), STORE (sqlite|postgres), TRACKED (limits.trackedSends, default
# 10,000,000), PETREL_BIN, PETREL_BENCH_BIN, WAIT_QUIET=1
# (start each pair only while no compiler or test runs on the machine).
# Usage: bench/limits.sh [RUNS=3] [DURATION=20]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-3}; DURATION=${2:-20}; STORE=${STORE:-sqlite}
BIN=${PETREL_BIN:-.build/release/petrel}; BENCH=${PETREL_BENCH_BIN:-.build/release/petrel-bench}
[ -n "${PETREL_BIN:-}" ] || { swift build -c release --product petrel >/dev/null
    swift build -c release --product petrel-bench >/dev/null; }
WORK=$(mktemp -d /tmp/petrel-limits-bench.XXXXXX)
SERVER=; PG=
cleanup() {
    [ -n "$SERVER" ] && kill $SERVER 2>/dev/null; wait 2>/dev/null
    [ -n "$PG" ] && bash scripts/postgres.sh stop "$WORK/pg" >/dev/null 2>&1
    rm -rf "$WORK"
}
trap cleanup EXIT
export PETREL_ACCESS_KEY_ID=benchLimitsKey PETREL_ACCESS_KEY_SECRET=benchLimitsSecret
if [ "$STORE" = postgres ]; then
    chmod 755 "$WORK"          # the server runs as the postgres user
    PORT=${PETREL_BENCH_PG_PORT:-55490}
    PG=$(bash scripts/postgres.sh start "$WORK/pg" "$PORT" | tail -1)
fi

cat > "$WORK/limits.yaml" <<YAML
dispatcher: {enabled: false}
accounts: [{name: default}]
limits:
  # Memory for every send a run counts (a run sends a few million distinct numbers; the default 1,000,000 would spill
  # the rest to the slower on-disk count, which TRACKED=1000000 measures).
  trackedSends: ${TRACKED:-10000000}
  perNumber:
    OTP:    {minute: 1, hour: 5, day: 10}
    NOTIFY: {minute: 10, day: 100}
    "*":    {day: 200}
  allowNumbers: ["85291234567"]
  countries: {allow: [HK, SG, MY]}
  caps:
    - {account: default, day: 500000000, month: 1000000000, warnAt: 0.8}
    - {account: default, country: ID, hour: 500}
  # minConversionRate 0: every OTP is counted and summed, but the load generator (which reports no conversions)
  # is never halted.
  pumpingGuard: {type: OTP, window: 1h, minSent: 200, minConversionRate: 0}
YAML
printf 'dispatcher: {enabled: false}\naccounts: [{name: default}]\n' > "$WORK/none.yaml"

run() { # SCENARIO MODE I
    local dir="$WORK/run-$1-$2-$3" store=()
    if [ -n "$PG" ]; then
        local db="bench_$1_$2_$3"
        runuser -u postgres -- "$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)/psql" -h "$WORK/pg" -p "$PORT" \
            -U postgres -qtA -c "CREATE DATABASE $db OWNER petrel" >/dev/null
        store=(--store "${PG%/*}/$db")
    fi
    "$BIN" serve --data-dir "$dir" --config "$WORK/$2.yaml" "${store[@]}" --listen 127.0.0.1:0 > "$dir.log" 2>&1 &
    SERVER=$!
    for _ in $(seq 600); do grep -q "listening on http://" "$dir.log" && break; sleep 0.1; done
    URL=$(grep -o "http://[0-9.:]*" "$dir.log" | head -1) || { echo "the server did not start:" >&2; cat "$dir.log" >&2; exit 1; }
    "$BENCH" --url "$URL" --access-key-id "$PETREL_ACCESS_KEY_ID" --access-key-secret "$PETREL_ACCESS_KEY_SECRET" \
        --server-pid $SERVER --scenarios "$1" --duration "$DURATION" --json "$WORK/$1.$2.$3.json" | grep -v '^#' || true
    local accepted
    accepted=$(curl -s "$URL/metrics" | awk '/^petrel_messages_accepted_total/ {print $2}')
    kill -INT $SERVER; wait $SERVER 2>/dev/null || true; SERVER=
    echo "$1 $2 run $3: ${accepted:-0} messages stored"
    rm -rf "$dir"
}
quiet() { [ -z "${WAIT_QUIET:-}" ] || while pgrep -f "swift-frontend|swift-build|pytest" >/dev/null; do sleep 5; done; }
for i in $(seq "$RUNS"); do
    for scenario in ${SCENARIOS:-batch single}; do quiet; run $scenario limits $i; run $scenario none $i; done
done
python3 - "$WORK" "$RUNS" "$STORE" <<'PY'
import json, glob, statistics, sys
work, runs, store = sys.argv[1], int(sys.argv[2]), sys.argv[3]
for scenario in ("batch", "single"):
    got = {}
    for mode in ("limits", "none"):
        rows = [json.load(open(f)) for f in sorted(glob.glob(f"{work}/{scenario}.{mode}.*.json"))]
        rows = [r[0] if isinstance(r, list) else r for r in rows]
        if rows:
            got[mode] = (statistics.median(r["recipientsPerSecond"] for r in rows),
                         statistics.median(r["p99ms"] for r in rows))
    if len(got) == 2:
        (lr, lp), (nr, np_) = got["limits"], got["none"]
        print(f"{store} {scenario}: with limits {lr:.0f}/s p99 {lp:.2f} ms; without {nr:.0f}/s p99 {np_:.2f} ms; "
              f"rate ratio {lr / nr:.2f}, p99 ratio {lp / np_:.2f}")
PY
