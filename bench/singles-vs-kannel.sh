#!/usr/bin/env bash
# One message per request, Petrel against Kannel, both driven by wrk (Debian's; issue 25). Same sink for both:
# `petrel smsc --no-faults` on 127.0.0.1:2775, a fresh one per measurement; SMPP window 100 for both.
#   bench/singles-vs-kannel.sh [DURATION=10] [RUNS=3]
# Per run, for 10 and 64 connections, in an order rotated each run:
#   petrel   `petrel serve`, durable (the default), its store fresh, one SMPP bind to the sink (window 100, receipts
#            asked), driven with SendMessageToGlobe requests pre-signed by `petrel-bench --scenarios presign` and sent
#            once each by bench/wrk/presigned.lua; sink's receipts after 100 ms (`petrel smsc`'s default)
#   petrel-r0  the same with `petrel smsc --receipt-delay-ms 0` (receipts at once; issue 25's second part)
#   kannel   bench/kannel.sh (bearerbox + smsbox, max-pending-submits 100, no receipts asked), driven through its
#            sendsms GET by bench/wrk/kannel-sendsms.lua
# and accept-only singles at 256 connections (`petrel serve` with dispatcher.enabled: false) against the bare route
# GET /healthz of the same server right after, both wrk.
# delivered/s: what was delivered by the time the sink is stopped, DRAIN (2) s after wrk ends, over wrk's own run time
# (the load's window, "N requests in T"; the drain is not in the divisor). Petrel: messages whose receipt made them
# `delivered` in the store (`petrel-bench --scenarios counts` on SQLite, psql on PostgreSQL); Kannel: submit_sm the
# sink received (its --summary, written as it stops).
# Latency: wrk --latency's p50/p99 of the answers (Petrel answers after the durable commit).
# The request files are sized PRESIGN_RATE x (DURATION + 1) so that no wrk thread runs out (checked: a run where one
# did fails); PRESIGN_RATE defaults to 30000 requests/s (60000 for accept-only). They are written to /dev/shm (if
# writable), and `sync` runs before each measurement: no writeback competes with the durable commits during one.
# Output: a table on stdout (medians) and bench/results/singles-vs-kannel-<date>.json (every run).
# Environment: STORE=postgres (a throwaway PostgreSQL server, scripts/postgres.sh, a fresh database per run),
# PETREL_BIN, PETREL_BENCH_BIN (else both are built, release), THREADS (wrk threads, 2), DRAIN (2), PRESIGN_RATE,
# PRESIGN_RATE_ACCEPT, GATEWAYS ("petrel kannel petrel-r0"), CONNECTIONS ("10 64"), ACCEPT_ONLY (1; 0 skips it).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
DURATION=${1:-10}; RUNS=${2:-3}; STORE=${STORE:-sqlite}
THREADS=${THREADS:-2}; DRAIN=${DRAIN:-2}
RATE=${PRESIGN_RATE:-30000}; RATE_ACCEPT=${PRESIGN_RATE_ACCEPT:-60000}
GATEWAYS=(${GATEWAYS:-petrel kannel petrel-r0}); CONNECTIONS=(${CONNECTIONS:-10 64})
BIN=${PETREL_BIN:-.build/release/petrel}; BENCH=${PETREL_BENCH_BIN:-.build/release/petrel-bench}
[ -n "${PETREL_BIN:-}" ] || nice swift build -c release --product petrel >/dev/null
[ -n "${PETREL_BENCH_BIN:-}" ] || nice swift build -c release --product petrel-bench >/dev/null
case $BIN in /*) ;; *) BIN=$REPO/$BIN ;; esac
case $BENCH in /*) ;; *) BENCH=$REPO/$BENCH ;; esac
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for port in 2775 13000 13001 13013; do
    if listening $port; then echo "port $port is taken (a sink or Kannel still running?)" >&2; exit 1; fi
done

WORK=$(mktemp -d /tmp/petrel-singles.XXXXXX)
# The request files (hundreds of MB) in memory where possible: written to the disk just before a run, their writeback
# would compete with the durable commits' fdatasync during it.
REQUESTS=$(mktemp -p "$([ -w /dev/shm ] && echo /dev/shm || echo "$WORK")" petrel-singles-requests.XXXXXX)
export KANNEL_DIR=$WORK/kannel
SINK=; SERVER=; PG=; PGPORT=${PETREL_BENCH_PG_PORT:-55491}
stop_sink() { [ -z "$SINK" ] || { kill -TERM "$SINK" 2>/dev/null || true; wait "$SINK" 2>/dev/null || true; }; SINK=; }
stop_server() { [ -z "$SERVER" ] || { kill -INT "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; }; SERVER=; }
cleanup() {
    stop_server; stop_sink
    bash bench/kannel.sh stop >/dev/null 2>&1 || true
    [ -z "$PG" ] || bash scripts/postgres.sh stop "$WORK/pg" >/dev/null 2>&1 || true
    rm -rf "$WORK" "$REQUESTS"
}
trap cleanup EXIT
export PETREL_ACCESS_KEY_ID=benchSinglesKey PETREL_ACCESS_KEY_SECRET=benchSinglesSecret
if [ "$STORE" = postgres ]; then
    chmod 755 "$WORK"  # the server runs as the postgres user
    PG=$(bash scripts/postgres.sh start "$WORK/pg" "$PGPORT" | tail -1)
fi
psql_() { runuser -u postgres -- "$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)/psql" -h "$WORK/pg" \
    -p "$PGPORT" -U postgres -qtA "$@"; }

start_sink() { # RECEIPT_DELAY_MS
    rm -f "$WORK/sink.json"
    "$BIN" smsc --listen 127.0.0.1:2775 --no-faults --receipt-delay-ms "$1" --summary "$WORK/sink.json" \
        > "$WORK/sink.log" 2>&1 &
    SINK=$!
    for _ in $(seq 100); do listening 2775 && return; sleep 0.05; done
    echo "petrel smsc did not start" >&2; exit 1
}
# Starts `petrel serve` on a fresh store with config $1 (a file); sets URL, DATA, DB.
start_server() {
    DATA=$WORK/data-$RANDOM; DB=
    local store=()
    if [ -n "$PG" ]; then
        DB=bench_$RANDOM$RANDOM
        psql_ -c "CREATE DATABASE $DB OWNER petrel" >/dev/null
        store=(--store "${PG%/*}/$DB")
    fi
    "$BIN" serve --data-dir "$DATA" --config "$1" "${store[@]}" --listen 127.0.0.1:0 > "$DATA.log" 2>&1 &
    SERVER=$!
    for _ in $(seq 600); do grep -q "listening on http://" "$DATA.log" && break; sleep 0.1; done
    URL=$(grep -o "http://[0-9.:]*" "$DATA.log" | head -1) || { echo "petrel serve did not start:" >&2; cat "$DATA.log" >&2; exit 1; }
}
delivered() {
    if [ -n "$PG" ]; then
        psql_ -d "$DB" -c "SELECT count(*) FROM messages WHERE status = 3"
    else
        "$BENCH" --scenarios counts --data-dir "$DATA" | grep -o 'delivered [0-9]*' | cut -d' ' -f2
    fi
}
presign() { # N FILE
    "$BENCH" --scenarios presign --messages "$1" --out "$2" --url "$URL" \
        --access-key-id "$PETREL_ACCESS_KEY_ID" --access-key-secret "$PETREL_ACCESS_KEY_SECRET" >/dev/null
}
# Appends one measurement to rows.jsonl: RUN GATEWAY CONNECTIONS WRK-OUTPUT [DELIVERED [ACCEPTED]]
record() {
    python3 - "$@" >> "$WORK/rows.jsonl" <<'PY'
import json, re, sys
run, gw, conns, out = sys.argv[1:5]
delivered, accepted = (sys.argv[5:] + ["", ""])[:2]
text = open(out).read()
def dur(v, unit):
    return float(v) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]
lat = {p: dur(v, u) for p, v, u in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.M)}
n, t, unit = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m),", text).groups()
row = dict(run=int(run), gateway=gw, connections=int(conns), requests=int(n), seconds=dur(t, unit) / 1000,
           requests_per_sec=float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)),
           p50_ms=lat.get("50"), p99_ms=lat.get("99"),
           non_2xx=int((re.search(r"Non-2xx or 3xx responses: (\d+)", text) or [0, 0])[1]),
           socket_errors=(re.search(r"Socket errors: (.*)", text) or [None, None])[1])
m = re.search(r"presigned: sent (\d+) ranout (\d+)", text)
if m:
    row["ranout_threads"] = int(m.group(2))
if delivered:
    row["delivered"] = int(delivered)
    row["delivered_per_sec"] = int(delivered) / row["seconds"]
if accepted:
    row["accepted"] = int(float(accepted))
print(json.dumps(row))
if row.get("ranout_threads") or row["non_2xx"] or row["socket_errors"]:
    print(f"{gw} c{conns} run {run}: ran out or errors: {json.dumps(row)}", file=sys.stderr)
    sys.exit(1)
PY
}
wrk_() { # CONNECTIONS OUT SCRIPT URL [ARGS...]
    local c=$1 out=$2 script=$3 url=$4; shift 4
    wrk -t "$THREADS" -c "$c" -d "${DURATION}s" --latency --timeout 10s -s "$script" "$url" ${1:+--} "$@" > "$out" 2>&1
}
accepted_total() { curl -s "$URL/metrics" | awk '/^petrel_messages_accepted_total/ {print $2}'; }

cat > "$WORK/e2e.yaml" <<YAML
logLevel: warning
channels:
  - {id: sink, type: smpp, host: 127.0.0.1, port: 2775, systemId: bench, password: benchpw, window: 100, sessions: 1}
routes:
  - {channels: [sink]}
YAML
printf 'logLevel: warning\ndispatcher: {enabled: false}\n' > "$WORK/accept.yaml"

measure() { # RUN GATEWAY CONNECTIONS
    local run=$1 gw=$2 c=$3 out="$WORK/wrk-$2-$3-$1.txt" n
    case $gw in
    petrel | petrel-r0)
        start_sink "$([ "$gw" = petrel-r0 ] && echo 0 || echo 100)"
        start_server "$WORK/e2e.yaml"
        n=$(python3 -c "print(int($RATE * ($DURATION + 1)))")
        presign "$n" "$REQUESTS"
        sync; sleep 1  # nothing left to write back; the bind is up
        wrk_ "$c" "$out" bench/wrk/presigned.lua "$URL" "$REQUESTS" "$THREADS"
        sleep "$DRAIN"; stop_sink
        record "$run" "$gw" "$c" "$out" "$(delivered)" "$(accepted_total)"
        stop_server; rm -rf "$DATA" "$DATA.log"; : > "$REQUESTS"
        ;;
    kannel)
        start_sink 100
        bash bench/kannel.sh start >/dev/null
        sync; sleep 1
        wrk_ "$c" "$out" bench/wrk/kannel-sendsms.lua http://127.0.0.1:13013
        sleep "$DRAIN"; stop_sink
        record "$run" "$gw" "$c" "$out" "$(python3 -c "import json; print(json.load(open('$WORK/sink.json'))['submit_sm'])")"
        bash bench/kannel.sh stop
        ;;
    esac
}
accept_only() { # RUN
    start_server "$WORK/accept.yaml"
    presign "$(python3 -c "print(int($RATE_ACCEPT * ($DURATION + 1)))")" "$REQUESTS"
    sync
    wrk_ 256 "$WORK/wrk-single-256-$1.txt" bench/wrk/presigned.lua "$URL" "$REQUESTS" "$THREADS"
    record "$1" accept-single 256 "$WORK/wrk-single-256-$1.txt" "" "$(accepted_total)"
    : > "$REQUESTS"
    wrk -t "$THREADS" -c 256 -d "${DURATION}s" --latency "$URL/healthz" > "$WORK/wrk-bare-256-$1.txt" 2>&1
    record "$1" bare-healthz 256 "$WORK/wrk-bare-256-$1.txt"
    stop_server; rm -rf "$DATA" "$DATA.log"
}

echo "# load before: $(cut -d' ' -f1-3 /proc/loadavg); store $STORE; $DURATION s per measurement, $RUNS runs"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for run in $(seq "$RUNS"); do
    k=$(( (run - 1) % ${#GATEWAYS[@]} ))
    order=("${GATEWAYS[@]:$k}" "${GATEWAYS[@]:0:$k}")
    for c in "${CONNECTIONS[@]}"; do
        for gw in "${order[@]}"; do
            measure "$run" "$gw" "$c"
            tail -1 "$WORK/rows.jsonl"
        done
    done
    if [ "${ACCEPT_ONLY:-1}" = 1 ]; then accept_only "$run"; tail -2 "$WORK/rows.jsonl"; fi
done

mkdir -p bench/results
OUT=bench/results/singles-vs-kannel-$(date -u +%Y%m%d-%H%M%S).json
python3 - "$WORK/rows.jsonl" "$OUT" "$STORE" "$DURATION" "$RUNS" "$DRAIN" "$LOAD_BEFORE" "$(cut -d' ' -f1-3 /proc/loadavg)" \
    "$(git rev-parse --short HEAD)" <<'PY'
import json, statistics, sys
rows_file, out, store, duration, runs, drain, load_before, load_after, commit = sys.argv[1:10]
rows = [json.loads(l) for l in open(rows_file)]
def med(gw, c, key):
    vals = [r[key] for r in rows if r["gateway"] == gw and r["connections"] == c and r.get(key) is not None]
    return statistics.median(vals) if vals else None
summary = dict(store=store, duration_s=float(duration), runs=int(runs), drain_s=float(drain), commit=commit,
               load_before=load_before, load_after=load_after, sink="petrel smsc --no-faults", window=100,
               delivered=("Petrel: messages delivered (receipt applied) in the store; Kannel: submit_sm received by "
                          "the sink; both by DRAIN s after wrk ended (the sink stopped then), over wrk's run time"),
               medians={}, rows=rows)
print(f"\n{'conns':>5} {'Kannel dlv/s':>12} {'Petrel dlv/s':>12} {'P/K':>5} {'P p50 ms':>8} {'P p99 ms':>8} "
      f"{'K p50 ms':>8} {'K p99 ms':>8} {'Petrel r0 dlv/s':>15} {'r0/K':>5} {'r0 p50':>6}")
for c in sorted({r["connections"] for r in rows if r["gateway"] in ("petrel", "kannel", "petrel-r0")}):
    m = {gw: {k: med(gw, c, k) for k in ("delivered_per_sec", "requests_per_sec", "p50_ms", "p99_ms")}
         for gw in ("petrel", "kannel", "petrel-r0")}
    k, p, r0 = m["kannel"]["delivered_per_sec"], m["petrel"]["delivered_per_sec"], m["petrel-r0"]["delivered_per_sec"]
    ratio = lambda a, b: round(a / b, 2) if a and b else None
    m["petrel/kannel delivered"], m["petrel-r0/kannel delivered"] = ratio(p, k), ratio(r0, k)
    summary["medians"][str(c)] = m
    f = lambda v, spec: format(v, spec) if v is not None else "-".rjust(int(spec.split(",")[0].split(".")[0]))
    print(f"{c:>5} {f(k, '12,.0f')} {f(p, '12,.0f')} {f(ratio(p, k), '5.2f')} {f(m['petrel']['p50_ms'], '8.2f')} "
          f"{f(m['petrel']['p99_ms'], '8.2f')} {f(m['kannel']['p50_ms'], '8.2f')} {f(m['kannel']['p99_ms'], '8.2f')} "
          f"{f(r0, '15,.0f')} {f(ratio(r0, k), '5.2f')} {f(m['petrel-r0']['p50_ms'], '6.2f')}")
singles = [r for r in rows if r["gateway"] == "accept-single"]
if singles:
    bare = {r["run"]: r["requests_per_sec"] for r in rows if r["gateway"] == "bare-healthz"}
    ratios = [r["requests_per_sec"] / bare[r["run"]] for r in singles if bare.get(r["run"])]
    s, b = med("accept-single", 256, "requests_per_sec"), med("bare-healthz", 256, "requests_per_sec")
    summary["medians"]["accept-only 256"] = dict(single_per_sec=s, bare_per_sec=b,
                                                 single_p50_ms=med("accept-single", 256, "p50_ms"),
                                                 single_p99_ms=med("accept-single", 256, "p99_ms"),
                                                 ratio=round(statistics.median(ratios), 2))
    print(f"accept-only singles at 256 connections: {s:,.0f}/s, bare /healthz {b:,.0f}/s, "
          f"ratio {statistics.median(ratios):.2f} (median of the runs' ratios)")
print(f"load before {load_before}, after {load_after}; store {store}; medians of {runs} runs of {duration} s")
json.dump(summary, open(out, "w"), indent=1)
print(f"-> {out}")
PY
