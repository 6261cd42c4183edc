#!/usr/bin/env bash
# Formats the Swift sources with the toolchain's swift-format and .swift-format (swift-nio's settings, 120 columns);
# `scripts/format.sh --lint` only checks, and fails on any difference (scripts/test.sh runs it first).
set -euo pipefail
cd "$(dirname "$0")/.."
files() { find Sources Tests Benchmarks Fuzz -name '*.swift' -type f; echo Package.swift; }
if [ "${1:-}" = "--lint" ]; then
    files | xargs swift format lint --strict --parallel
else
    files | xargs swift format format --in-place --parallel
fi
