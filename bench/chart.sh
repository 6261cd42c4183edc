#!/usr/bin/env bash
# Draws docs/benchmarks.png with matplotlib (from PyPI, in a throwaway venv) from side-by-side results.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${BENCH_VENV:-/tmp/petrel-bench-venv}
[ -x "$VENV/bin/python" ] || { python3 -m venv "$VENV" && "$VENV/bin/pip" install -q matplotlib==3.10.8; }
"$VENV/bin/python" bench/chart.py "$@"
