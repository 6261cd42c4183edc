"""A command pointed at a PostgreSQL database no server has set up refuses it before writing anything: the database
stays empty, as a mistyped --data-dir leaves no SQLite store behind (issue 22)."""
import os
import subprocess
import time

from conftest import PETREL
from test_shared_store import database, psql  # noqa: F401 (a fixture)

COMMANDS = [("keys", "list"), ("accounts", "list"), ("templates", "list"), ("receipts", "parked")]


def tables(url):
    return psql(url, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")


def test_a_command_leaves_an_empty_database_empty(tmp_path, database):  # noqa: F811
    env = {k: v for k, v in os.environ.items() if not k.startswith("PETREL_")}
    env.update({"PETREL_STORE": database, "PETREL_MASTER_KEY": "cd" * 32})
    for command in COMMANDS:
        r = subprocess.run([PETREL, *command, "--data-dir", str(tmp_path / "node")], capture_output=True, text=True,
                           env=env, timeout=60)
        assert r.returncode != 0, command
        assert "has not been set up by a server yet" in r.stderr and "petrel serve" in r.stderr, (command, r.stderr)
        assert tables(database) == [], (command, tables(database))
    # `keys create --init-store` is told to set it up, and does.
    r = subprocess.run([PETREL, "keys", "create", "--name", "first", "--init-store", "--data-dir", str(tmp_path / "node")],
                       capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    assert ["petrel_migrations"] in tables(database)
    r = subprocess.run([PETREL, "keys", "list", "--data-dir", str(tmp_path / "node")], capture_output=True, text=True,
                       env=env, timeout=60)
    assert r.returncode == 0 and "first" in r.stdout, r.stderr


def test_a_wrong_database_name_or_password_is_said_at_once(tmp_path, database):  # noqa: F811
    env = {k: v for k, v in os.environ.items() if not k.startswith("PETREL_")}
    env["PETREL_MASTER_KEY"] = "cd" * 32
    base, name = database.rsplit("/", 1)
    wrong_password = database.replace("://petrel:petrel@", "://petrel:not-the-password@")
    assert wrong_password != database
    for url, said in [(f"{base}/{name}x", f'database "{name}x" does not exist'),
                      (wrong_password, "refused the user name or password")]:
        started = time.monotonic()
        r = subprocess.run([PETREL, "keys", "list", "--data-dir", str(tmp_path), "--store", url], capture_output=True,
                           text=True, env=env, timeout=60)
        # It used to wait out the pool's 10 s and then say "cannot reach PostgreSQL".
        assert r.returncode != 0 and said in r.stderr and "cannot reach" not in r.stderr, r.stderr
        assert time.monotonic() - started < 5
        assert "not-the-password" not in r.stderr and "PSQLError" not in r.stderr, r.stderr
