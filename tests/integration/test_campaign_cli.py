"""`petrel campaign send` finds the server running on the data directory, as the other commands find the store, and
signs in with a key of the store; a server it cannot find or reach is said with the flag to give (issue 22)."""
import http.server
import json
import os
import re
import socket
import stat
import subprocess
import threading
from pathlib import Path

from conftest import PETREL, wait_for


def campaign(csv, *args, cwd=None, extra_env=None):
    """`petrel campaign send` as a new user runs it: no key in the environment, no PETREL_* but what is given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PETREL_")}
    env.update(extra_env or {})
    return subprocess.run([PETREL, "campaign", "send", "--csv", str(csv), "--text", "Hi ${name}", *args],
                          capture_output=True, text=True, env=env, cwd=cwd, timeout=120)


def audience(tmp_path):
    csv = tmp_path / "audience.csv"
    csv.write_text("number,name\n85291234567,Ann\n6581234567,Bo\n")
    return csv


def test_campaign_send_needs_nothing_but_the_data_directory(make_server, tmp_path):
    server = make_server()
    address = Path(server.data_dir) / "server.json"
    assert stat.S_IMODE(address.stat().st_mode) == 0o600
    assert json.loads(address.read_text())["url"] == server.url("")
    r = campaign(audience(tmp_path), "--data-dir", server.data_dir)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "2 valid rows of 2" in r.stdout and re.search(r"campaign \d+ done: 2 accepted", r.stdout), r.stdout
    # The same through PETREL_DATA_DIR, and through ./petrel-data in the working directory.
    r = campaign(audience(tmp_path), "--dry-run", extra_env={"PETREL_DATA_DIR": server.data_dir})
    assert r.returncode == 0 and "draft kept" in r.stdout, r.stdout + r.stderr
    home = tmp_path / "home"
    home.mkdir()
    (home / "petrel-data").symlink_to(server.data_dir)
    r = campaign(audience(tmp_path), "--dry-run", cwd=home)
    assert r.returncode == 0 and "draft kept" in r.stdout, r.stdout + r.stderr
    # A clean stop removes the address: the next send says no server runs there and which flag names one.
    server.stop()
    assert not address.exists()
    r = campaign(audience(tmp_path), "--data-dir", server.data_dir)
    assert r.returncode != 0
    assert "no server runs on" in r.stderr and server.data_dir in r.stderr and "--server" in r.stderr, r.stderr


def test_a_stale_or_wrong_server_is_said_with_the_flag_to_give(make_server, tmp_path):
    server = make_server()
    server.kill9()
    # A crashed server leaves its address behind: the failed connect says so, and names --server.
    r = campaign(audience(tmp_path), "--data-dir", server.data_dir)
    assert r.returncode != 0
    assert f"no Petrel server answers at {server.url('')}" in r.stderr and "server.json" in r.stderr, r.stderr
    assert "refused the connection" in r.stderr and "--server" in r.stderr, r.stderr
    assert "errno" not in r.stderr and "NIO" not in r.stderr, r.stderr
    # --server with nothing listening, and with something that is not Petrel.
    server.start()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    r = campaign(audience(tmp_path), "--data-dir", server.data_dir, "--server", f"http://127.0.0.1:{closed}")
    assert r.returncode != 0 and "(--server)" in r.stderr and "refused the connection" in r.stderr, r.stderr
    other = http.server.HTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    try:
        r = campaign(audience(tmp_path), "--data-dir", server.data_dir,
                     "--server", f"http://127.0.0.1:{other.server_address[1]}")
    finally:
        other.shutdown()
    assert r.returncode != 0 and "is not Petrel" in r.stderr and "(--server)" in r.stderr, r.stderr
    # A server.json that is not ours is named, not parsed into a crash.
    server.stop()
    (Path(server.data_dir) / "server.json").write_text("{not json")
    r = campaign(audience(tmp_path), "--data-dir", server.data_dir)
    assert r.returncode != 0 and "server.json is not the address file" in r.stderr, r.stderr


def test_a_store_of_several_accounts_asks_which_one(make_server, tmp_path):
    server = make_server()
    server.cli("keys", "create", "--name", "shop", "--account", "shop", "--create-account")
    r = campaign(audience(tmp_path), "--data-dir", server.data_dir, "--dry-run")
    assert r.returncode != 0 and "--account" in r.stderr and "default, shop" in r.stderr, r.stderr
    r = campaign(audience(tmp_path), "--data-dir", server.data_dir, "--account", "shop")
    assert r.returncode == 0, r.stdout + r.stderr
    sent = re.search(r"campaign (\d+) done: 2 accepted", r.stdout)
    assert sent, r.stdout
    # The campaign is the shop's: the default account's session does not see it.
    from test_console import sign_in
    session, _ = sign_in(server)
    assert session.get(server.url(f"/console/api/campaigns/{sent.group(1)}"), timeout=10).status_code == 404
    r = campaign(audience(tmp_path), "--data-dir", server.data_dir, "--account", "nobody", "--dry-run")
    assert r.returncode != 0 and "account nobody has no enabled key" in r.stderr, r.stderr


def test_a_campaign_the_store_cannot_take_is_refused_in_a_sentence(make_server, tmp_path):
    import sqlite3
    server = make_server()
    # A store that fails the write (its campaign rows' table gone): SQLite's raw error must not reach the person.
    with sqlite3.connect(Path(server.data_dir) / "petrel.sqlite") as db:
        db.execute("DROP TABLE campaign_rows")
    r = campaign(audience(tmp_path), "--data-dir", server.data_dir, "--dry-run")
    assert r.returncode != 0 and "The campaign could not be stored: the SQLite store failed" in r.stderr, r.stderr
    for raw in ("SQLite error", "while executing", "no such table", "INSERT"):
        assert raw not in r.stderr, r.stderr
