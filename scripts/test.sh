#!/usr/bin/env bash
# The whole test suite: Swift unit tests, then the official Alibaba Cloud SDKs against a running `petrel serve`.
# Installs what it needs: a Python virtualenv with the pinned SDKs and pytest (in .test-work/, reused when present),
# Debian's chromium for the console test and Debian's PostgreSQL server for the shared-store tests.
# Needs nothing beside the clone: the test peers, SDK pins and signature vectors live in tests/.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
WORK=${PETREL_TEST_WORK:-$REPO/.test-work}
VENV=$WORK/venv

# Formatting first (seconds): the toolchain's swift-format with .swift-format; `scripts/format.sh` fixes it.
echo "== swift format lint"
scripts/format.sh --lint

# System packages: SQLite headers for GRDB (present on this machine kind; installed if missing).
if ! dpkg -s libsqlite3-dev >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq libsqlite3-dev
fi

# A real browser for the console tests: Debian's chromium and its driver.
if ! command -v chromedriver >/dev/null 2>&1 || ! command -v chromium >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver
fi

# A second third-party SMPP stack for the SMPP server's tests: Debian's libnet-smpp-perl (Net::SMPP).
if ! perl -MNet::SMPP -e 1 >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libnet-smpp-perl
fi

# Python: the official SDK and the legacy core SDK at the pinned versions, pytest and the SMPP peers' stacks.
STAMP=$(cat tests/requirements-sdk.txt tests/integration/requirements.txt | sha256sum | cut -c1-16)
if [ ! -f "$VENV/.stamp-$STAMP" ]; then
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check \
        -r tests/requirements-sdk.txt -r tests/integration/requirements.txt
    touch "$VENV/.stamp-$STAMP"
fi

# PostgreSQL: Debian's server on a throwaway data directory, for the store conformance suite (run against SQLite
# and PostgreSQL alike) and the two-node integration test. Stopped when the tests end.
PG_DIR=$WORK/postgres
PG_PORT=${PETREL_TEST_PG_PORT:-55433}
rm -rf "$PG_DIR"
# (Assigned, then exported: `export X=$(…)` would hide a server that failed to start, e.g. a port already taken.)
PETREL_TEST_POSTGRES=$(bash scripts/postgres.sh start "$PG_DIR" "$PG_PORT")
export PETREL_TEST_POSTGRES
trap 'bash scripts/postgres.sh stop "$PG_DIR"' EXIT

echo "== swift build"
swift build --build-tests
echo "== swift test"
swift test --skip-build

echo "== integration tests (official SDK against petrel serve)"
export PETREL_BIN="$REPO/.build/debug/petrel"
"$VENV/bin/python" -m pytest tests/integration -q -p no:cacheprovider "$@"
