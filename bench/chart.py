"""Draws docs/benchmarks.png from the newest bench/results/side-by-side-*.json (or the file given).
Run: bench/chart.sh [RESULTS.json]   (makes a venv with matplotlib from PyPI)."""
import glob
import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

ROOT = Path(__file__).resolve().parents[1]
path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(sorted(glob.glob(str(ROOT / "bench/results/side-by-side-*.json")))[-1])
data = json.loads(path.read_text())
peers = list(data["results"])
names = {"petrel": "Petrel", "kannel": "Kannel 1.4.5", "jasmin": "Jasmin 0.11.1"}
accepted = [data["results"][p]["median_accepted"] for p in peers]
delivered = [data["results"][p]["median_delivered"] for p in peers]

fig, ax = plt.subplots(figsize=(8, 4.2), dpi=120)
x = range(len(peers))
w = 0.38
b1 = ax.bar([i - w / 2 for i in x], accepted, w, label="accepted by the HTTP API /s", color="#54aeff")
b2 = ax.bar([i + w / 2 for i in x], delivered, w, label="delivered end to end /s", color="#1f883d")
ax.bar_label(b1, labels=[f"{v:,.0f}" for v in accepted], fontsize=8)
ax.bar_label(b2, labels=[f"{v:,.0f}" for v in delivered], fontsize=8)
ax.set_xticks(list(x), [names.get(p, p) for p in peers])
ax.set_yscale("log")   # Petrel's batch accept is ~20x its delivery: a linear axis would hide the peers
ax.set_ylim(100, max(accepted + delivered) * 3)
ax.set_ylabel("messages per second (median, log scale)")
ax.set_title(f"{data['messages']:,} messages into the same SMSC sink, median of {data['runs']} alternating runs, 2 cores",
             fontsize=9)
ax.legend(fontsize=8)
ax.spines[["top", "right"]].set_visible(False)
fig.tight_layout()
out = ROOT / "docs" / "benchmarks.png"
fig.savefig(out)
print(f"wrote {out} from {path}")
