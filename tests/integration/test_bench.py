"""The benchmarks are their own binary, `petrel-bench`, which drives the `petrel` beside it as the server; the
shipped `petrel` only points to it."""
import json
import os
import subprocess
from pathlib import Path

from conftest import PETREL

BENCH = str(Path(PETREL).with_name("petrel-bench"))


def test_bench_drives_the_petrel_beside_it(tmp_path):
    out = tmp_path / "results.json"
    r = subprocess.run(
        [BENCH, "--scenarios", "single,baseline", "--duration", "1", "--connections", "4", "--no-delivery",
         "--json", str(out)],
        capture_output=True, text=True, timeout=180, env={**os.environ, "TMPDIR": str(tmp_path)})
    assert r.returncode == 0, r.stdout + r.stderr
    results = json.loads(out.read_text())
    assert [x["scenario"] for x in results] == ["single", "baseline"]
    assert all(x["requests"] > 0 and x["errors"] == 0 for x in results), results
    # The server's CPU is read from the child process it started: it was a real `petrel serve`.
    assert all(x["serverCPU"] >= 0 for x in results), results
    assert "ratio    single / baseline" in r.stdout


def test_http_channel_bench_sends_through_a_fake_provider_and_its_callback(tmp_path):
    # Every message goes out as one request to the bench's provider and comes back delivered through
    # /carriers/fake/receipts; the channel keeps to its concurrency in connections.
    r = subprocess.run(
        [BENCH, "--scenarios", "http-channel", "--messages", "2000", "--http-concurrency", "4"],
        capture_output=True, text=True, timeout=300, env={**os.environ, "TMPDIR": str(tmp_path)})
    assert r.returncode == 0, r.stdout + r.stderr
    line = r.stdout.strip().splitlines()[-1]
    assert line.startswith("http-channel  2000 messages"), r.stdout
    assert "gave up" not in r.stdout, r.stdout
    assert "provider requests 2000 on 4 connections" in line, line
    assert "errors 0" in line, line


def test_bench_without_a_petrel_binary_says_how_to_get_one(tmp_path):
    r = subprocess.run([BENCH, "--scenarios", "single", "--petrel", str(tmp_path / "nope")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
    assert "no petrel binary at" in r.stderr and "--petrel PATH" in r.stderr


def test_petrel_has_no_bench_but_points_to_petrel_bench():
    r = subprocess.run([PETREL, "bench", "--scenarios", "e2e"], capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
    assert "petrel-bench --scenarios e2e" in r.stderr
    usage = subprocess.run([PETREL, "--help"], capture_output=True, text=True, timeout=60).stdout
    assert "serve" in usage and "bench" not in usage
