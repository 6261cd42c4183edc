#!/usr/bin/env bash
# Petrel, Kannel and Jasmin end to end into the same SMSC sink, in alternating order, medians of RUNS runs.
#   bench/side-by-side.sh [N] [RUNS] [PEERS]        defaults: 20000 3 "petrel kannel jasmin"
# The sink is `petrel smsc --no-faults` on 127.0.0.1:2775 (the peers' Python smsc.py caps near 1.4k/s once it has
# to send receipts, so it cannot rank them; see docs/benchmarks.md). Kannel and Jasmin are set up by
# ../shared/peers/setup_*.sh and driven by ../shared/peers/bench_peer.sh through their HTTP APIs (10 keep-alive
# connections, no receipts requested; "delivered" = submit_sm received by the sink). Petrel is driven by
# `petrel-bench --scenarios e2e` (BatchSendMessageToGlobe, 1,000 per request, signed; receipts requested and a
# message counted only once its receipt made it `delivered` in the store) — a stricter measure than the peers'.
# Results: bench/results/side-by-side-<date>.json and a table on stdout.
# A benchmark run by hand, not a test: it alone needs the peers' set-up scripts beside the repository
# ($PETREL_SHARED, default ../shared); scripts/test.sh needs nothing outside the clone.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
N=${1:-20000}; RUNS=${2:-3}; PEERS=(${3:-petrel kannel jasmin})
SHARED=${PETREL_SHARED:-$(cd "$REPO/.." && pwd)/shared}/peers
export PEERS_WORK=${PEERS_WORK:-/tmp/petrel-peers}
mkdir -p "$PEERS_WORK" bench/results
swift build -c release --product petrel >/dev/null
swift build -c release --product petrel-bench >/dev/null
BIN=$REPO/.build/release/petrel
BENCH=$REPO/.build/release/petrel-bench
SUMMARY=$PEERS_WORK/side-by-side-smsc.json
OUT=bench/results/side-by-side-$(date +%Y%m%d-%H%M%S).json
LOG=$PEERS_WORK/side-by-side.log
: > "$LOG"

SINK=""
start_sink() { $BIN smsc --listen 127.0.0.1:2775 --no-faults --summary "$SUMMARY" >> "$LOG" 2>&1 & SINK=$!; sleep 0.5; }
stop_sink() { [ -n "$SINK" ] && kill "$SINK" 2>/dev/null && wait "$SINK" 2>/dev/null || true; SINK=""; }
trap 'stop_sink; for p in kannel jasmin; do bash "$SHARED/setup_$p.sh" stop >/dev/null 2>&1 || true; done' EXIT

run_petrel() {   # prints "accepted/s delivered/s"
    local line
    line=$($BENCH --scenarios e2e --messages "$N" --sink 127.0.0.1:2775 | tee -a "$LOG" | grep '^e2e')
    python3 - "$line" <<'PY'
import re, sys
m = re.search(r"accepted in [\d.]+ s \((\d+)/s\).*: (\d+) messages/s end to end", sys.argv[1])
print(m.group(1), m.group(2))
PY
}

run_peer() {     # $1 kannel|jasmin; prints "accepted/s delivered/s"
    bash "$SHARED/setup_$1.sh" start >> "$LOG" 2>&1
    local out
    out=$(SMSC_SUMMARY="$SUMMARY" bash "$SHARED/bench_peer.sh" "$1" "$N" 10 1 2>&1 | tee -a "$LOG" | tail -1)
    bash "$SHARED/setup_$1.sh" stop >> "$LOG" 2>&1
    python3 - "$out" <<'PY'
import re, sys
m = re.search(r"median accepted ([\d.]+)/s, median delivered at SMSC ([\d.]+)/s", sys.argv[1])
print(m.group(1), m.group(2)) if m else print("0 0")
PY
}

declare -A RESULTS
for run in $(seq 1 "$RUNS"); do
    # Rotate the order each run so no one always goes first (cold caches) or last.
    order=("${PEERS[@]:$(( (run - 1) % ${#PEERS[@]} ))}" "${PEERS[@]:0:$(( (run - 1) % ${#PEERS[@]} ))}")
    for peer in "${order[@]}"; do
        stop_sink; start_sink
        if [ "$peer" = petrel ]; then r=$(run_petrel); else r=$(run_peer "$peer"); fi
        echo "run $run $peer: accepted/s delivered/s = $r"
        RESULTS[$peer]="${RESULTS[$peer]:-} $r"
    done
done
stop_sink

python3 - "$OUT" "$N" "$RUNS" "${PEERS[*]}" "${RESULTS[petrel]:-}" "${RESULTS[kannel]:-}" "${RESULTS[jasmin]:-}" <<'PY'
import json, statistics, sys
out, n, runs, peers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4].split()
raw = dict(zip(["petrel", "kannel", "jasmin"], sys.argv[5:8]))
res = {}
for p in peers:
    vals = [float(x) for x in raw[p].split()]
    acc, dlv = vals[0::2], vals[1::2]
    res[p] = dict(accepted_per_sec=acc, delivered_per_sec=dlv, median_accepted=statistics.median(acc),
                  median_delivered=statistics.median(dlv))
summary = dict(messages=n, runs=runs, sink="petrel smsc --no-faults", results=res)
if "petrel" in res:
    for p in peers:
        if p != "petrel" and res[p]["median_delivered"] > 0:
            summary.setdefault("ratios", {})[f"petrel/{p} delivered"] = round(res["petrel"]["median_delivered"] / res[p]["median_delivered"], 2)
json.dump(summary, open(out, "w"), indent=1)
print(f"\n{'peer':8} {'median accepted/s':>18} {'median delivered/s':>19}")
for p in peers:
    print(f"{p:8} {res[p]['median_accepted']:>18,.0f} {res[p]['median_delivered']:>19,.0f}")
for k, v in summary.get("ratios", {}).items():
    print(f"{k}: {v}x")
print(f"-> {out}")
PY
