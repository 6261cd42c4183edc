#!/usr/bin/env bash
# A 1,000,000-recipient campaign through `petrel campaign send` into a release `petrel serve` on a throwaway data
# directory (sandbox carrier delivering at the same time). Prints the preview time, the sending time and the
# server's RSS. Usage: bench/campaign.sh [ROWS]   (default 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-1000000}
WORK=$(mktemp -d /tmp/petrel-campaign-bench.XXXXXX)
trap 'kill $SERVER 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT
swift build -c release --product petrel >/dev/null
BIN=.build/release/petrel

# Hong Kong mobile numbers the numbering plan accepts, each once, with a name column for ${name}.
python3 - "$ROWS" "$WORK/audience.csv" <<'PY'
import sys
rows, path = int(sys.argv[1]), sys.argv[2]
ranges = [(91000000, 91100000), (91200000, 92000000), (92000000, 93000000)]
with open(path, "w") as f:
    f.write("number,name\n")
    n = 0
    for lo, hi in ranges:
        for x in range(lo, hi):
            if n == rows: break
            f.write("+852%d,Customer %d\n" % (x, n)); n += 1
PY

export PETREL_ACCESS_KEY_ID=benchCampaignKey PETREL_ACCESS_KEY_SECRET=benchCampaignSecret
$BIN serve --data-dir "$WORK/data" --listen 127.0.0.1:0 > "$WORK/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 100); do grep -q "listening on http://" "$WORK/serve.log" && break; sleep 0.1; done
URL=$(grep -o "http://[0-9.:]*" "$WORK/serve.log" | head -1)
START=$(date +%s.%N)
$BIN campaign send --server "$URL" --csv "$WORK/audience.csv" --text 'Hi ${name}, our spring sale starts today.' \
    | tr '\r' '\n' | grep -v '^\[' || true
END=$(date +%s.%N)
echo "rows: $ROWS; wall time from upload to the last message accepted: $(python3 -c "print(round($END - $START, 1))") s"
echo "server RSS: $(( $(ps -o rss= -p $SERVER) / 1024 )) MB"
