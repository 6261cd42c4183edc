#!/usr/bin/env bash
# Inbound throughput (issue 24): `petrel smsc` originates RATE messages a second (BURST every 1000*BURST/RATE ms) to a
# `petrel serve` bound to it as a carrier; each is stored before its deliver_sm_resp and pushed as SmsUp to a local
# receiver (tests/integration/receiver.py's, answering {"code":0}). After DURATION seconds prints messages stored and
# pushed per second, read from the SQLite store (inbound rows; rows still in the outbox).
# Usage: bench/inbound.sh [RATE=10000] [DURATION=20] [BURST=100]
set -euo pipefail
cd "$(dirname "$0")/.."
RATE=${1:-10000}; DURATION=${2:-20}; BURST=${3:-100}
BIN=${PETREL_BIN:-.build/release/petrel}
[ -n "${PETREL_BIN:-}" ] || swift build -c release --product petrel >/dev/null
WORK=$(mktemp -d /tmp/petrel-inbound-bench.XXXXXX)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill $p 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$WORK"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
SMSC_PORT=$(free_port); RECEIVER_PORT=$(free_port)

python3 - "$RECEIVER_PORT" <<'PY' > "$WORK/receiver.log" 2>&1 &
import sys, time
sys.path.insert(0, "tests/integration")
from receiver import Receiver
Receiver(secret="bench-secret-0123456789", port=int(sys.argv[1])).start()
while True:
    time.sleep(60)
PY
PIDS+=($!)
"$BIN" smsc --listen 127.0.0.1:$SMSC_PORT --system-id petrel --password secret --no-faults \
    --mo-from 85291230001 --mo-text "reply {n}" --mo-every $(( 1000 * BURST / RATE )) --mo-burst "$BURST" \
    --summary "$WORK/smsc.json" > "$WORK/smsc.log" 2>&1 &
PIDS+=($!)
cat > "$WORK/config.yaml" <<YAML
channels: [{id: carrier-a, type: smpp, host: 127.0.0.1, port: $SMSC_PORT, systemId: petrel, password: secret}]
routes: [{channels: [carrier-a]}]
accounts: [{name: default, moUrl: "http://127.0.0.1:$RECEIVER_PORT/receipts", webhookSecret: bench-secret-0123456789}]
receipts: {batchSize: 1000, maxWaitMs: 100, pollMs: 50}
YAML
PETREL_ACCESS_KEY_ID=benchInboundKey PETREL_ACCESS_KEY_SECRET=benchInboundSecret \
    "$BIN" serve --data-dir "$WORK/data" --config "$WORK/config.yaml" --listen 127.0.0.1:0 > "$WORK/serve.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 600); do grep -q "listening on http://" "$WORK/serve.log" && break; sleep 0.1; done
# (Pushed rows stay in the outbox as state 2 for the console: only the others are waiting.)
count() { sqlite3 "file:$WORK/data/petrel.sqlite?mode=ro" "SELECT (SELECT COUNT(*) FROM inbound), (SELECT COUNT(*) FROM inbound_outbox WHERE state <> 2)"; }
sleep 3
IFS='|' read -r S0 Q0 < <(count); T0=$(date +%s.%N)
sleep "$DURATION"
IFS='|' read -r S1 Q1 < <(count); T1=$(date +%s.%N)
python3 - "$S0" "$Q0" "$S1" "$Q1" "$T0" "$T1" "$RATE" <<'PY'
import sys
s0, q0, s1, q1 = map(int, sys.argv[1:5]); t = float(sys.argv[6]) - float(sys.argv[5]); rate = sys.argv[7]
stored, pushed = s1 - s0, (s1 - q1) - (s0 - q0)
print(f"offered {rate}/s for {t:.1f} s: stored {stored / t:,.0f}/s, pushed {pushed / t:,.0f}/s, outbox {q1}")
PY
cat "$WORK/smsc.json"; echo
