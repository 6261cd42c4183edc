#!/usr/bin/env bash
# Runs the libFuzzer targets on the committed corpus: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET ...]
# Targets: FuzzSMPP (SMPP decoder), FuzzRPC (form decoding, V3 Authorization, canonicalisation, V1 string to
# sign), FuzzJSONArrays (the To / Message JSON arrays), FuzzCSV (campaign CSV and row checks), FuzzMultipart (the
# console's multipart/form-data parser), FuzzHTTP (the HTTP door: request parser, framer and connection state
# machine). New inputs that reach new code go to .build-fuzz/corpus;
# a crash leaves its input as crash-* in the current directory.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${1:-60}
shift || true
TARGETS=${*:-FuzzSMPP FuzzRPC FuzzJSONArrays FuzzCSV FuzzMultipart FuzzHTTP}
for t in $TARGETS; do
    ENABLE_FUZZING=1 swift build -c release --sanitize=fuzzer --sanitize=address \
        -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp --scratch-path .build-fuzz --product "$t"
    corpus=Fuzz/Corpus/${t#Fuzz}
    mkdir -p ".build-fuzz/corpus/$t"
    echo "== $t for ${SECONDS_PER_TARGET}s"
    ".build-fuzz/release/$t" -max_total_time="$SECONDS_PER_TARGET" -timeout=5 -rss_limit_mb=2048 \
        ".build-fuzz/corpus/$t" "$corpus" 2>&1 | grep -E "^#[0-9]+ +(DONE|pulse)|ERROR|SUMMARY|crash-|Done" || true
done
