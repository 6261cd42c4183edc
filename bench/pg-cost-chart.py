#!/usr/bin/env python3
"""Draws docs/scaling.svg (no dependencies) from a bench/pg-cost.py result: messages per second one PostgreSQL
server sustains by its cores, from the measured PostgreSQL CPU per message (end to end with batches, and singles),
against the WAL bound at the WAL rate measured on this machine (--wal-mb-s).

    python3 bench/pg-cost-chart.py bench/results/pg-cost-DATE.json --wal-mb-s 70.7,173.1 [--busy 0.7]
"""
import argparse
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
p = argparse.ArgumentParser()
p.add_argument("results")
p.add_argument("--wal-mb-s", required=True, help="WAL MB/s the server wrote in the bulk measurement (comma separated: "
               "one line each)")
p.add_argument("--busy", type=float, default=0.7, help="share of the server's cores a planner would use")
p.add_argument("--out", default=str(ROOT / "docs/scaling.svg"))
args = p.parse_args()
data = json.loads(Path(args.results).read_text())
cost = data["cost"]
e2e = cost["e2e"]
cores = [2, 4, 8, 16, 32]
series = [
    ("end to end, batches of 1,000 (CPU)", "#1f883d", [c * args.busy * 1e6 / e2e["pg_cpu_us"] for c in cores]),
]
if "single" in cost and "batch" in cost:
    # A single's whole path: its accept plus the dispatch part of the batch path (e2e minus batch accept).
    per = cost["single"]["pg_cpu_us"] + e2e["pg_cpu_us"] - cost["batch"]["pg_cpu_us"]
    series.append(("end to end, singles (CPU)", "#bf8700", [c * args.busy * 1e6 / per for c in cores]))
wal_rates = [float(x) for x in args.wal_mb_s.split(",")]
wal_bounds = [r * 1e6 / e2e["wal_bytes"] for r in wal_rates]

W, H, L, R, T, B = 760, 400, 80, 250, 40, 50
xs = {c: L + i * (W - L - R) / (len(cores) - 1) for i, c in enumerate(cores)}
top = max(max(v for _, _, vs in series for v in vs), *wal_bounds) * 1.1


def y(v):
    return T + (H - T - B) * (1 - v / top)


out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
       'font-family="sans-serif" font-size="12">',
       f'<rect width="{W}" height="{H}" fill="white"/>',
       f'<text x="{L}" y="22" font-size="14" font-weight="bold">Messages/s one PostgreSQL server sustains, by its '
       f'cores ({int(args.busy * 100)}% busy)</text>',
       f'<text x="{L}" y="36" font-size="10" fill="#555">CPU lines: measured cost per message times cores, as if '
       'PostgreSQL scaled linearly (it stops at the WAL line first)</text>']
step = 10 ** (len(str(int(top))) - 1)
step = step if top / step >= 4 else step // 2
for v in range(0, int(top) + 1, max(step, 1)):
    out.append(f'<line x1="{L}" x2="{W - R}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#ddd"/>')
    out.append(f'<text x="{L - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{v:,}</text>')
for c in cores:
    out.append(f'<text x="{xs[c]:.1f}" y="{H - B + 18}" text-anchor="middle">{c}</text>')
out.append(f'<text x="{(L + W - R) / 2:.1f}" y="{H - 12}" text-anchor="middle">PostgreSQL server cores</text>')
legend_y = T + 10
for name, color, vs in series:
    pts = " ".join(f"{xs[c]:.1f},{y(v):.1f}" for c, v in zip(cores, vs))
    out.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="2.5"/>')
    for c, v in zip(cores, vs):
        out.append(f'<circle cx="{xs[c]:.1f}" cy="{y(v):.1f}" r="3.5" fill="{color}"/>')
    out.append(f'<text x="{xs[cores[-1]] + 8:.1f}" y="{y(vs[-1]) + 4:.1f}" fill="{color}">{vs[-1]:,.0f}/s</text>')
    out.append(f'<rect x="{W - R + 70}" y="{legend_y - 9}" width="12" height="12" fill="{color}"/>')
    out.append(f'<text x="{W - R + 88}" y="{legend_y + 1}">{name}</text>')
    legend_y += 20
for rate, bound in zip(wal_rates, wal_bounds):
    out.append(f'<line x1="{L}" x2="{W - R}" y1="{y(bound):.1f}" y2="{y(bound):.1f}" stroke="#cf222e" '
               'stroke-width="2" stroke-dasharray="6 4"/>')
    out.append(f'<text x="{L + 6}" y="{y(bound) - 6:.1f}" fill="#cf222e">WAL bound at {rate:.0f} MB/s '
               f'(measured on this machine\'s disk): {bound:,.0f}/s</text>')
out.append(f'<text x="{L}" y="{H - B + 34}" font-size="10" fill="#555">From bench/pg-cost.py {data["date"]}: '
           f'{e2e["pg_cpu_us"]:.0f} µs PostgreSQL CPU and {e2e["wal_bytes"]:,.0f} WAL bytes per message end to '
           f'end</text>')
out.append("</svg>")
Path(args.out).write_text("\n".join(out) + "\n")
print(f"wrote {args.out}")
