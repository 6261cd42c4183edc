#!/usr/bin/env python3
"""What one message costs PostgreSQL: statements, WAL bytes and server CPU per message, measured around
`petrel-bench` runs against a throwaway server with pg_stat_statements (docs/scaling.md).

    python3 bench/pg-cost.py [--messages 30000] [--small 3000] [--duration 10] [--short 3] [--nodes-rounds 3]

Builds nothing: run `nice swift build -c release --product petrel` and `--product petrel-bench` first. Starts
(or reuses) a server with scripts/postgres.sh in /tmp/pgscale-cost on port 55481 (--pg-dir, --pg-port), turns on
pg_stat_statements, and measures, each around one petrel-bench run:

  e2e      BatchSendMessageToGlobe (1,000 per request) -> dispatch -> SMPP submit to petrel smsc -> receipt ->
           delivered, one node (no receipt URL: no report push)
  batch    the same batches, accept only (--no-delivery)
  single   SendMessageToGlobe, one message per request, 64 connections, accept only (--no-delivery)

Each is run twice, large and small (--messages / --small, --duration / --short), and the per-message figure is the
difference divided by the difference in messages: the fixed costs of a run (CREATE DATABASE, migrations, node
start, DROP DATABASE) cancel. Statements are pg_stat_statements `calls` outside the `postgres` database, WAL is
pg_wal_lsn_diff of pg_current_wal_lsn() (everything the server logged, background work included), PostgreSQL CPU is
utime+stime of the postmaster and its children from /proc (ended backends are in the postmaster's cutime+cstime),
Petrel CPU the node's, as petrel-bench reports it. Then, unless --nodes-rounds 0, e2e with one node and with two
nodes on one database, alternating, with the machine's busy cores (/proc/stat) and PostgreSQL's share.
Writes bench/results/pg-cost-DATE.json and prints a summary.
"""
import argparse
import datetime
import glob
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
p = argparse.ArgumentParser()
p.add_argument("--messages", type=int, default=30000)
p.add_argument("--small", type=int, default=3000)
p.add_argument("--duration", type=float, default=10)
p.add_argument("--short", type=float, default=3)
p.add_argument("--nodes-rounds", type=int, default=3)
p.add_argument("--only", default="e2e,batch,single", help="which cost scenarios to run")
p.add_argument("--pg-dir", default="/tmp/pgscale-cost")
p.add_argument("--pg-port", type=int, default=55481)
p.add_argument("--bench", default=str(ROOT / ".build/release/petrel-bench"))
p.add_argument("--out", default=None)
args = p.parse_args()

BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda s: [int(x) for x in re.findall(r"\d+", s)])
TICK = os.sysconf("SC_CLK_TCK")


def start_server():
    url = subprocess.run(["bash", str(ROOT / "scripts/postgres.sh"), "start", args.pg_dir, str(args.pg_port)],
                         capture_output=True, text=True, check=True).stdout.strip()
    conf = Path(args.pg_dir) / "postgresql.conf"
    if "pg_stat_statements" not in conf.read_text():
        with open(conf, "a") as f:
            f.write("shared_preload_libraries = 'pg_stat_statements'\npg_stat_statements.max = 10000\n"
                    "pg_stat_statements.track_utility = off\n")
        subprocess.run(["bash", str(ROOT / "scripts/postgres.sh"), "stop", args.pg_dir], check=True)
        subprocess.run(["bash", str(ROOT / "scripts/postgres.sh"), "start", args.pg_dir, str(args.pg_port)],
                       capture_output=True, check=True)
    q("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    return url


def q(sql):
    out = subprocess.run(["runuser", "-u", "postgres", "--", f"{BIN[-1]}/psql", "-h", args.pg_dir, "-p",
                          str(args.pg_port), "-U", "postgres", "-d", "postgres", "-qtAX", "-F", "\t", "-v",
                          "ON_ERROR_STOP=1", "-c", sql], capture_output=True, text=True, check=True).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def stat(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return [int(x) for x in fields[11:15]]          # utime stime cutime cstime


def pg_cpu_seconds():
    pm = int(Path(args.pg_dir, "postmaster.pid").read_text().split()[0])
    u, s, cu, cs = stat(pm)
    total = u + s + cu + cs
    children = subprocess.run(["pgrep", "-P", str(pm)], capture_output=True, text=True).stdout.split()
    for c in children:
        try:
            cu_, cs_, _, _ = stat(int(c))
            total += cu_ + cs_
        except (OSError, ValueError):
            pass                                     # ended between pgrep and the read: in cutime next time
    return total / TICK


def machine_busy_seconds():
    with open("/proc/stat") as f:
        cpu = [int(x) for x in f.readline().split()[1:]]
    idle = cpu[3] + cpu[4]
    return (sum(cpu[:8]) - idle) / TICK


def snapshot():
    time.sleep(1.0)                                  # ended backends reaped, stats flushed
    (lsn, calls, exec_ms, wal_stmt), = q(
        "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint, COALESCE(sum(calls), 0), "
        "COALESCE(round(sum(total_exec_time)), 0), COALESCE(sum(wal_bytes), 0) FROM pg_stat_statements "
        "WHERE dbid <> (SELECT oid FROM pg_database WHERE datname = 'postgres')")
    return {"wal": int(lsn), "calls": int(calls), "exec_ms": float(exec_ms), "stmt_wal": int(wal_stmt),
            "pg_cpu": pg_cpu_seconds(), "busy": machine_busy_seconds(), "t": time.time()}


def measured(bench_args):
    q("SELECT pg_stat_statements_reset()")
    before = snapshot()
    out = subprocess.run([args.bench, *bench_args, "--store", URL], capture_output=True,
                         text=True)
    if out.returncode != 0:
        sys.exit(f"petrel-bench {' '.join(bench_args)} failed:\n{out.stdout}{out.stderr}")
    top = q("SELECT calls, rows, wal_bytes, round(total_exec_time::numeric, 1), "
            "regexp_replace(left(query, 160), '\\s+', ' ', 'g') FROM pg_stat_statements "
            "WHERE dbid <> (SELECT oid FROM pg_database WHERE datname = 'postgres') ORDER BY calls DESC LIMIT 30")
    after = snapshot()
    d = {k: after[k] - before[k] for k in before}
    d["output"] = out.stdout.strip()
    d["top"] = top
    return d


def messages_of(kind, output, seconds):
    if kind == "e2e":
        mm = re.search(r"e2e\s+(\d+) messages .* delivered in ([\d.]+) s: ([\d.]+) messages/s .* server ([\d.]+)",
                       output)
        n, elapsed, rate, server = int(mm[1]), float(mm[2]), float(mm[3]), float(mm[4])
        return n, {"rate": rate, "elapsed": elapsed, "petrel_cpu_us": server * elapsed / n * 1e6}
    mm = re.search(r"(\d+) nodes on PostgreSQL: ([\d.]+) req/s\s+([\d.]+) recipients/s", output)
    rate = float(mm[3])
    line = next((ln for ln in output.splitlines() if ln.startswith("node 1")), "")
    cpu = re.search(r"server(?: cpu)? ([\d.]+)", line)
    res = {"rate": rate, "requests_per_s": float(mm[2]), "line": line}
    if cpu:
        res["petrel_cpu_us"] = float(cpu[1]) / rate * 1e6
    return int(rate * seconds), res


URL = start_server()
results = {"date": datetime.datetime.utcnow().isoformat(timespec="seconds") + "Z", "cores": os.cpu_count(),
           "postgres": q("SHOW server_version")[0][0], "synchronous_commit": q("SHOW synchronous_commit")[0][0],
           "cost": {}, "nodes": []}
plans = {
    "e2e": [["--scenarios", "e2e", "--messages", str(n)] for n in (args.messages, args.small)],
    "batch": [["--scenarios", "batch", "--no-delivery", "--duration", str(d)] for d in (args.duration, args.short)],
    "single": [["--scenarios", "single", "--no-delivery", "--duration", str(d)] for d in (args.duration, args.short)],
}
for kind in [k for k in args.only.split(",") if k]:
    runs = []
    for bench_args, seconds in zip(plans[kind], (args.duration, args.short)):
        d = measured(bench_args)
        n, info = messages_of(kind, d["output"], seconds)
        runs.append((n, d, info))
        print(f"{kind:6} {n:7d} messages: {d['calls']} statements, {d['wal']} WAL bytes, {d['pg_cpu']:.2f} s "
              f"PostgreSQL CPU, {d['busy']:.2f} s machine busy, {d['t']:.1f} s  | {info['rate']:.0f}/s", flush=True)
    (n1, big, info), (n2, small, _) = runs
    dn = n1 - n2
    per = {
        "messages": [n1, n2],
        "statements": (big["calls"] - small["calls"]) / dn,
        "wal_bytes": (big["wal"] - small["wal"]) / dn,
        "statement_wal_bytes": (big["stmt_wal"] - small["stmt_wal"]) / dn,
        "pg_cpu_us": (big["pg_cpu"] - small["pg_cpu"]) / dn * 1e6,
        "pg_exec_us": (big["exec_ms"] - small["exec_ms"]) / dn * 1e3,
        "petrel_cpu_us": info.get("petrel_cpu_us"),
        "rate": info["rate"],
        "raw": [{k: v for k, v in r.items() if k != "top"} for _, r, _ in runs],
        "top": big["top"],
    }
    results["cost"][kind] = per
    print(f"{kind:6} per message: {per['statements']:.3f} statements, {per['wal_bytes']:.0f} WAL bytes "
          f"({per['statement_wal_bytes']:.0f} in statements), PostgreSQL CPU {per['pg_cpu_us']:.1f} µs "
          f"(executing {per['pg_exec_us']:.1f} µs), Petrel CPU {per['petrel_cpu_us'] or 0:.1f} µs", flush=True)

# This machine's WAL rate: one session writing 1,000,000 rows of ~250 bytes in one statement (committed with
# fsync). A floor for what the disk and one WAL writer take, not a ceiling of PostgreSQL's.
q("DROP TABLE IF EXISTS pgcost_wal; CREATE TABLE pgcost_wal (id bigint, body text)")
lsn0, t0 = int(q("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint")[0][0]), time.time()
q("INSERT INTO pgcost_wal SELECT g, repeat('x', 230) FROM generate_series(1, 1000000) g")
t1, lsn1 = time.time(), int(q("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint")[0][0])
q("DROP TABLE pgcost_wal")
results["wal_rate_mb_s"] = (lsn1 - lsn0) / (t1 - t0) / 1e6
print(f"WAL rate, one session bulk insert: {results['wal_rate_mb_s']:.1f} MB/s ({(lsn1 - lsn0) / 1e6:.0f} MB in "
      f"{t1 - t0:.1f} s)", flush=True)

for r in range(args.nodes_rounds):
    for nodes in (1, 2):
        d = measured(["--scenarios", "e2e", "--messages", str(args.messages), "--nodes", str(nodes)])
        mm = re.search(r"accepted in [\d.]+ s \(([\d.]+)/s\)\s+delivered in ([\d.]+) s: ([\d.]+) messages/s", d["output"])
        row = {"round": r + 1, "nodes": nodes, "accepted_per_s": float(mm[1]), "delivered_per_s": float(mm[3]),
               "seconds": d["t"], "pg_cores": d["pg_cpu"] / d["t"], "busy_cores": d["busy"] / d["t"],
               "wal_per_message": d["wal"] / args.messages, "statements_per_message": d["calls"] / args.messages,
               "output": d["output"]}
        results["nodes"].append(row)
        print(f"round {r + 1} {nodes} node(s): {row['delivered_per_s']:.0f}/s end to end, accept "
              f"{row['accepted_per_s']:.0f}/s; PostgreSQL {row['pg_cores']:.2f} cores, machine busy "
              f"{row['busy_cores']:.2f} cores (whole run incl. start and stop)", flush=True)

out = Path(args.out or ROOT / f"bench/results/pg-cost-{datetime.datetime.utcnow():%Y%m%d-%H%M%S}.json")
out.write_text(json.dumps(results, indent=1) + "\n")
print(f"wrote {out}")
