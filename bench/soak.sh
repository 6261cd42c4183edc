#!/usr/bin/env bash
# The SQLite file under steady load with a short retention: a release `petrel serve` (sandbox carrier) with
# `retention: {messages: RET, every: 10s}` takes RATE messages a second (batches of 100, V3-signed) for MINUTES
# minutes; every 30 s it prints the store's file sizes, rows and the server's RSS. Flat sizes after the first
# retention period = the file stops growing. Usage: bench/soak.sh [MINUTES=20] [RATE=1000] [RET=2m]
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES=${1:-20}; RATE=${2:-1000}; RET=${3:-2m}
BIN=${PETREL_BIN:-.build/release/petrel}
[ -n "${PETREL_BIN:-}" ] || swift build -c release --product petrel >/dev/null
WORK=$(mktemp -d /tmp/petrel-soak.XXXXXX)
SERVER=
trap '[ -n "$SERVER" ] && kill $SERVER 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT
export PETREL_ACCESS_KEY_ID=benchSoakKey PETREL_ACCESS_KEY_SECRET=benchSoakSecretKey
printf 'retention: {messages: %s, every: 10s}\n' "$RET" > "$WORK/soak.yaml"
"$BIN" serve --data-dir "$WORK/data" --config "$WORK/soak.yaml" --listen 127.0.0.1:0 > "$WORK/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 300); do grep -q "listening on http://" "$WORK/serve.log" && break; sleep 0.1; done
ENDPOINT=$(grep -o "http://[0-9.:]*" "$WORK/serve.log" | head -1 | sed 's|http://||')
PYTHONPATH=tests/integration python3 - "$ENDPOINT" "$RATE" "$MINUTES" "$WORK/data" "$SERVER" <<'PY'
import json, os, sqlite3, sys, time, threading
import signer
endpoint, rate, minutes, data, pid = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4], int(sys.argv[5])
ak, sk = os.environ["PETREL_ACCESS_KEY_ID"], os.environ["PETREL_ACCESS_KEY_SECRET"]
per = 100
sent = [0]; errors = [0]; stop = time.time() + minutes * 60

def load():
    n = 0; t = time.time()
    while time.time() < stop:
        to = [f"852{92000000 + (n + i) % 1000000}" for i in range(per)]  # a valid HK mobile range
        body = {"To": json.dumps(to), "Message": json.dumps([f"Soak message {n + i}, code {(n + i) % 999999:06d}" for i in range(per)])}
        from urllib.parse import urlencode
        r = signer.send(signer.v3_request(endpoint, ak, sk, "BatchSendMessageToGlobe", {}, body=urlencode(body).encode()))
        if r.status_code == 200 and '"ResponseCode":"OK"' in r.text: sent[0] += per
        else: errors[0] += 1
        n += per; t += per / rate
        time.sleep(max(0, t - time.time()))

threading.Thread(target=load, daemon=True).start()
start = time.time()
print(f"{'min':>5} {'sent':>9} {'sqlite MB':>9} {'wal MB':>7} {'messages':>9} {'free pages':>10} {'RSS MB':>7} errors", flush=True)
while time.time() < stop + 1:
    time.sleep(30)
    size = lambda f: os.path.getsize(os.path.join(data, f)) / 1e6 if os.path.exists(os.path.join(data, f)) else 0
    db = sqlite3.connect(f"file:{data}/petrel.sqlite?mode=ro", uri=True, timeout=5)
    rows = db.execute("SELECT count(*) FROM messages").fetchone()[0]
    free = db.execute("PRAGMA freelist_count").fetchone()[0]
    db.close()
    rss = int(open(f"/proc/{pid}/statm").read().split()[1]) * 4096 / 1e6
    print(f"{(time.time() - start) / 60:5.1f} {sent[0]:9d} {size('petrel.sqlite'):9.1f} {size('petrel.sqlite-wal'):7.1f} "
          f"{rows:9d} {free:10d} {rss:7.0f} {errors[0]}", flush=True)
PY
