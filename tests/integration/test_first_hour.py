"""A new user's first hour: the traps a newcomer met, each closed (issue 22)."""
import json
import os
import re
import socket
import subprocess

import requests

from conftest import PETREL, REPO, wait_for


def petrel(*args, env=None, cwd=None):
    full = {**os.environ, **(env or {})}
    for name in ("PETREL_DATA_DIR", "PETREL_STORE", "PETREL_MASTER_KEY"):
        if env is None or name not in env:
            full.pop(name, None)
    return subprocess.run([PETREL, *args], capture_output=True, text=True, env=full, cwd=cwd, timeout=60)


def serve_line(args, env, cwd, until="Petrel listening on"):
    """Starts `petrel serve`, returns its output up to the line starting with `until`, and stops it."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("PETREL_ACCESS_KEY")}
    full.update(env)
    proc = subprocess.Popen([PETREL, "serve", "--listen", "127.0.0.1:0", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=full, cwd=cwd)
    lines = []
    try:
        for line in proc.stdout:
            lines.append(line)
            if line.startswith(until):
                break
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return "".join(lines)


STORE_COMMANDS = [
    ("keys", "list"),
    ("keys", "create", "--name", "ops"),
    ("keys", "disable", "LTAIxxxxxxxxxxxxxxxxxxxx"),
    ("templates", "add", "OTP", "--text", "code ${c}"),
    ("templates", "list"),
    ("accounts", "list"),
    ("accounts", "set-receipt-url", "default", "http://127.0.0.1:9/r"),
    ("receipts", "parked"),
    ("receipts", "retry"),
    ("receipts", "replay", "--account", "default"),
]


def test_a_mistyped_data_directory_is_refused_by_name_and_not_made(tmp_path):
    missing = tmp_path / "petrel-dtaa"
    for command in STORE_COMMANDS:
        r = petrel(*command, "--data-dir", str(missing))
        assert r.returncode != 0, command
        assert str(missing) in r.stderr and "PETREL_DATA_DIR" in r.stderr, (command, r.stderr)
        assert not missing.exists(), command
    # The same through the environment, and the default (./petrel-data) shown where it resolves.
    r = petrel("keys", "list", env={"PETREL_DATA_DIR": str(missing)})
    assert r.returncode != 0 and str(missing) in r.stderr and not missing.exists()
    r = petrel("keys", "list", cwd=tmp_path)
    assert r.returncode != 0 and f"./petrel-data ({tmp_path}/petrel-data)" in r.stderr, r.stderr
    assert not (tmp_path / "petrel-data").exists()
    # An empty directory is not a store either, and stays empty.
    missing.mkdir()
    r = petrel("keys", "create", "--name", "ops", "--data-dir", str(missing))
    assert r.returncode != 0 and "no Petrel store" in r.stderr and "--init-store" in r.stderr, r.stderr
    assert list(missing.iterdir()) == []


def test_keys_create_init_store_makes_the_store_a_server_then_uses(tmp_path):
    data = tmp_path / "data"
    made = petrel("keys", "create", "--name", "ops", "--init-store", "--data-dir", str(data))
    assert made.returncode == 0, made.stderr
    key = json.loads(made.stdout)
    assert (data / "master.key").is_file() and (data / "petrel.sqlite").is_file()
    listed = json.loads(petrel("keys", "list", "--json", "--data-dir", str(data)).stdout)
    assert [k["AccessKeyId"] for k in listed] == [key["AccessKeyId"]]
    # serve finds a key in the store, so it makes none and prints no other.
    out = serve_line(["--data-dir", str(data)], {}, tmp_path)
    assert "Created access key" not in out and f"data in {data}" in out, out


def test_serve_with_a_config_file_honours_petrel_data_dir(tmp_path):
    config = tmp_path / "petrel.yaml"
    config.write_text(f"dataDir: {tmp_path / 'from-file'}\n")
    env_dir = tmp_path / "from-env"
    out = serve_line(["--config", str(config)], {"PETREL_DATA_DIR": str(env_dir)}, tmp_path)
    assert f"data in {env_dir}" in out and (env_dir / "petrel.sqlite").is_file(), out
    # The flag wins over the environment; the file is used when neither is given.
    flag_dir = tmp_path / "from-flag"
    out = serve_line(["--config", str(config), "--data-dir", str(flag_dir)], {"PETREL_DATA_DIR": str(env_dir)},
                     tmp_path)
    assert f"data in {flag_dir}" in out, out
    out = serve_line(["--config", str(config)], {"PETREL_DATA_DIR": ""}, tmp_path)
    assert f"data in {tmp_path / 'from-file'}" in out, out


def test_version_comes_from_one_place():
    source = (REPO / "Sources" / "PetrelServer" / "Version.swift").read_text()
    version = re.search(r'current = "([^"]+)"', source).group(1)
    r = petrel("--version")
    assert r.returncode == 0 and r.stdout.strip() == version, r.stdout + r.stderr


def test_the_banner_says_where_the_console_is_and_which_key_signs_in(tmp_path):
    out = serve_line(["--data-dir", str(tmp_path / "d")], {}, tmp_path, until="Console: ")
    port = re.search(r"Petrel listening on http://127\.0\.0\.1:(\d+) ", out).group(1)
    created = out.index("Created access key")
    console = out.index(f"Console: http://127.0.0.1:{port}/console (sign in with the AccessKeyId and "
                        "AccessKeySecret printed above)")
    assert created < console, out
    # A second start prints no key, and says how to get one.
    out = serve_line(["--data-dir", str(tmp_path / "d")], {}, tmp_path, until="Console: ")
    assert "Created access key" not in out and "petrel keys create --name NAME" in out, out
    out = serve_line(["--data-dir", str(tmp_path / "d")], {"PETREL_ACCESS_KEY_ID": "envKeyId0001",
                     "PETREL_ACCESS_KEY_SECRET": "envKeySecret0123456"}, tmp_path, until="Console: ")
    assert "sign in with PETREL_ACCESS_KEY_ID and PETREL_ACCESS_KEY_SECRET" in out, out


def raw_get(server, head):
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(head.encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    return data.decode(errors="replace")


def test_a_browser_opening_the_address_is_sent_to_the_console(server):
    html = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    r = requests.get(server.url("/"), headers={"Accept": html}, allow_redirects=False, timeout=10)
    assert r.status_code == 303 and r.headers["Location"] == "/console", (r.status_code, r.text)
    followed = requests.get(server.url("/"), headers={"Accept": html}, timeout=10)
    assert followed.status_code == 200 and "<form" in followed.text and followed.url.endswith("/console/login")
    # The general HTTP path (HTTP/1.0 is not the RPC fast path's shape) answers the same.
    head = raw_get(server, f"GET / HTTP/1.0\r\nHost: {server.endpoint}\r\nAccept: {html}\r\n\r\n")
    assert head.startswith("HTTP/1.0 303") or head.startswith("HTTP/1.1 303"), head
    assert "location: /console" in head.lower(), head
    # RPC requests to / are the gateway's: with an Action, or without HTML in Accept, or from the SDK.
    r = requests.get(server.url("/?Action=QueryMessage"), headers={"Accept": html}, allow_redirects=False, timeout=10)
    assert r.status_code == 400 and r.json()["Code"] != "", r.text
    r = requests.get(server.url("/"), headers={"Accept": "*/*"}, allow_redirects=False, timeout=10)
    assert r.status_code != 303 and "Code" in r.json(), r.text
    from alibabacloud_dysmsapi20180501 import models as m
    sent = server.client().send_message_to_globe(m.SendMessageToGlobeRequest(to="85291234567", message="hi"))
    assert sent.body.response_code == "OK"


def test_a_command_naming_an_unknown_account_refuses_it(server):
    r = server.cli("keys", "create", "--name", "typo", "--account", "acmee", check=False)
    assert r.returncode != 0 and "no account acmee" in r.stderr and "--create-account" in r.stderr, r.stderr
    assert "acmee" not in server.cli("keys", "list").stdout
    for command in (("templates", "add", "OTP", "--text", "code ${c}", "--account", "acmee"),
                    ("accounts", "set-receipt-url", "acmee", "http://127.0.0.1:9/r")):
        r = server.cli(*command, check=False)
        assert r.returncode != 0 and "no account acmee" in r.stderr and "--create-account" in r.stderr, r.stderr
    for command in (("templates", "list", "--account", "acmee"), ("templates", "delete", "OTP", "--account", "acmee"),
                    ("receipts", "parked", "--account", "acmee"), ("receipts", "retry", "--account", "acmee"),
                    ("receipts", "replay", "--account", "acmee")):
        r = server.cli(*command, check=False)
        assert r.returncode != 0 and "no account acmee" in r.stderr, (command, r.stderr)
    assert json.loads(server.cli("accounts", "list").stdout)["Accounts"] == []

    # Told to, keys create makes the account; then every command knows it.
    made = json.loads(server.cli("keys", "create", "--name", "a", "--account", "acme", "--create-account").stdout)
    assert made["AccessKeyId"].startswith("LTAI")
    server.cli("templates", "add", "OTP", "--text", "code ${c}", "--account", "acme")
    assert "acme\tOTP" in server.cli("templates", "list", "--account", "acme").stdout
    server.cli("accounts", "set-receipt-url", "other", "http://127.0.0.1:9/r", "--create-account")
    assert json.loads(server.cli("receipts", "retry", "--account", "other").stdout) == {"Retried": 0}


def test_a_port_in_use_is_said_in_a_sentence(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        for args in (["serve", "--data-dir", str(tmp_path / "d")], ["smsc"]):
            r = petrel(*args, "--listen", f"127.0.0.1:{port}")
            assert r.returncode != 0, r.stdout
            assert f"cannot listen on 127.0.0.1:{port}: the port is in use" in r.stderr, r.stderr
            assert "errno" not in r.stderr and "IOError" not in r.stderr, r.stderr


def test_a_channel_that_cannot_connect_says_why_in_the_console(make_server):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]      # nothing listens once this socket is closed
    config = {"channels": [{"id": "carrier-a", "type": "smpp", "host": "127.0.0.1", "port": closed,
                            "systemId": "petrel", "password": "secret"}],
              "routes": [{"channels": ["carrier-a"]}]}
    server = make_server(config)
    console = requests.Session()
    r = console.post(server.url("/console/api/session"), data={"key_id": server.ak, "key_secret": server.sk}, timeout=10)
    assert r.status_code == 200, r.text
    sentence = f"connect failed: the SMSC refused the connection at 127.0.0.1:{closed}"

    def page():
        text = console.get(server.url("/console/channels"), timeout=10).text
        return text if sentence in text else None
    text = wait_for(page, timeout=20)
    assert "errno" not in text and "NIOConnectionError" not in text
