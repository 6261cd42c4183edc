"""Campaigns cannot be amplified: rows are stored as their CSV values and filled in when sent, and what a campaign
would put in the store once filled in is capped per campaign and per account (issue 20, F9)."""
import re
import sqlite3
import subprocess

from conftest import FAST_SANDBOX, PETREL, wait_for
from test_console import sign_in

X = "abcdefghij" * 20          # 200 GSM characters; the text "${x}${x}" makes 400 of them (3 parts)


def send(server, tmp_path, rows, name, start=None):
    csv = tmp_path / f"{name}.csv"
    csv.write_text("number,x\n" + "".join(f"+85291{i:06d},{X}\n" for i in range(rows)))
    args = [PETREL, "campaign", "send", "--server", server.url(""), "--csv", str(csv), "--text", "${x}${x}",
            "--type", "MKT", "--name", name, "--no-wait"]
    if start:
        args += ["--start", start]
    return subprocess.run(args, capture_output=True, text=True, env=server.env(), timeout=120)


def test_campaigns_are_stored_as_values_and_capped_once_filled_in(make_server, tmp_path):
    server = make_server(config={**FAST_SANDBOX, "console": {"maxCampaignBytes": 100_000, "maxCampaignBytesPerAccount": 150_000}})

    # 200 rows x 400 bytes = 80,000 filled in: allowed, scheduled far ahead so it stays unfinished.
    r = send(server, tmp_path, 200, "held", start="2099-01-01T00:00")
    assert r.returncode == 0, r.stdout + r.stderr
    held = re.search(r"campaign (\d+):", r.stdout).group(1)
    db = sqlite3.connect(f"file:{server.data_dir}/petrel.sqlite?mode=ro", uri=True)
    try:
        stored, rendered = db.execute(
            "SELECT (SELECT SUM(LENGTH(body)) FROM campaign_rows WHERE campaign_id = ?), rendered_bytes FROM campaigns WHERE id = ?",
            (held, held)).fetchone()
    finally:
        db.close()
    assert rendered == 200 * 400
    assert stored < 200 * 230          # number and value per row, not the 400-character text

    # 300 rows = 120,000 filled in: over the per-campaign cap.
    r = send(server, tmp_path, 300, "too-big")
    assert r.returncode != 0 and "console.maxCampaignBytes" in r.stdout + r.stderr, r.stdout + r.stderr
    # Another 200 rows: 160,000 with the held one, over the account's cap.
    r = send(server, tmp_path, 200, "too-much")
    assert r.returncode != 0 and "console.maxCampaignBytesPerAccount" in r.stdout + r.stderr, r.stdout + r.stderr

    # 50 rows fit (100,000 with the held one) and are sent, filled in at send time.
    r = send(server, tmp_path, 50, "fits")
    assert r.returncode == 0, r.stdout + r.stderr
    sent = re.search(r"campaign (\d+):", r.stdout).group(1)
    session, _ = sign_in(server)
    wait_for(lambda: session.get(server.url(f"/console/api/campaigns/{sent}"), timeout=10).json()["Status"] == "done",
             timeout=60)
    db = sqlite3.connect(f"file:{server.data_dir}/petrel.sqlite?mode=ro", uri=True)
    try:
        texts = db.execute("SELECT DISTINCT body FROM messages WHERE task_id = ?", (f"campaign-{sent}",)).fetchall()
        count = db.execute("SELECT COUNT(*) FROM messages WHERE task_id = ?", (f"campaign-{sent}",)).fetchone()[0]
    finally:
        db.close()
    assert count == 50 and texts == [(X + X,)]
