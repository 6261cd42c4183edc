"""`petrel backup` while the server accepts, `petrel restore` into another directory, and what restore refuses."""
import json
import os
import re
import sqlite3
import stat
import subprocess
import threading

import pytest
from alibabacloud_dysmsapi20180501 import models as m

from conftest import HK, HK_EXPIRE, HK_FAIL, PETREL, SG, wait_for


def query(client, message_id):
    return client.query_message(m.QueryMessageRequest(message_id=message_id)).body


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def petrel(*args, env=None):
    full = dict(os.environ)
    full.pop("PETREL_MASTER_KEY", None)
    full.update(env or {})
    return subprocess.run([PETREL, *map(str, args)], capture_output=True, text=True, env=full, timeout=120)


class Loader:
    """Sends singles and batches through the official SDK until stopped, keeping every answered MessageId."""

    def __init__(self, server):
        self.client = server.client()
        self.answered = []          # (MessageId, To, text), in answer order
        self.errors = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        n = 0
        while not self.stop.is_set():
            try:
                if n % 2:
                    to = [f"8529{3000000 + n * 20 + i:07d}" for i in range(20)]
                    texts = [f"batch {n} {i}" for i in range(20)]
                    body = self.client.batch_send_message_to_globe(m.BatchSendMessageToGlobeRequest(
                        to=json.dumps(to), message=json.dumps(texts))).body
                    assert body.response_code == "OK", body.to_map()
                    self.answered += zip(json.loads(body.message_id_list), to, texts)
                else:
                    body = self.client.send_message_to_globe(
                        m.SendMessageToGlobeRequest(to=SG, message=f"single {n}")).body
                    assert body.response_code == "OK", body.to_map()
                    self.answered.append((body.message_id, SG, f"single {n}"))
            except Exception as e:  # reported by the test, not lost in the thread
                self.errors.append(e)
                return
            n += 1


def test_a_backup_under_load_restores_every_answered_message(make_server, tmp_path):
    s = make_server()
    c = s.client()
    # Settled before the backup: the restored store must give each its final status.
    settled = [c.send_message_to_globe(m.SendMessageToGlobeRequest(to=n, message=f"settled {i}")).body.message_id
               for i, n in enumerate([HK, HK_FAIL, HK_EXPIRE] * 3)]
    wait_for(lambda: all(query(c, i).status in ("1", "2") for i in settled))
    final = {i: (q.status, q.error_code, q.to, q.message) for i in settled for q in [query(c, i)]}
    assert {v[0] for v in final.values()} == {"1", "2"}

    loader = Loader(s)
    loader.thread.start()
    wait_for(lambda: len(loader.answered) >= 300 or loader.errors, timeout=60)
    before = list(loader.answered)           # every one of these was answered before the backup began
    backup = tmp_path / "petrel.backup"
    r = s.cli("backup", "--to", str(backup), "--with-key")
    after_backup = len(loader.answered)
    wait_for(lambda: len(loader.answered) > after_backup + 20 or loader.errors, timeout=30)
    loader.stop.set()
    loader.thread.join(timeout=30)
    assert not loader.errors, loader.errors
    assert re.search(r"backed up \d+ messages", r.stdout), r.stdout
    fingerprint = re.search(r"fingerprint ([0-9a-f]{16})", r.stdout).group(1)
    assert mode(backup) == 0o600 and mode(str(backup) + ".key") == 0o600
    assert not [f for f in os.listdir(tmp_path) if ".partial" in f]

    restored = tmp_path / "restored"
    r = petrel("restore", "--from", backup, "--data-dir", restored)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "restored" in r.stdout and fingerprint in r.stdout and "IMPORTANT" not in r.stderr
    assert mode(restored) == 0o700 and mode(restored / "petrel.sqlite") == 0o600
    assert mode(restored / "master.key") == 0o600

    s2 = make_server(data_dir=restored)
    c2 = s2.client(s.ak, s.sk)               # the original's key came with the store
    for i, (status, code, to, text) in final.items():
        q = query(c2, i)
        assert (q.status, q.error_code, q.to, q.message) == (status, code, to, text)
    assert len(before) >= 300
    for i, to, text in before:
        q = query(c2, i)
        assert q.response_code == "OK" and q.to == to and q.message == text, (i, q.to_map())
        assert q.status in ("1", "2", "3")
    # The restored node goes on where the copy stopped: it accepts and delivers.
    new = c2.send_message_to_globe(m.SendMessageToGlobeRequest(to=HK, message="after restore")).body.message_id
    assert int(new) > max(int(i) for i, _, _ in before)
    wait_for(lambda: query(c2, new).status == "1")


def test_restore_into_a_directory_in_use_is_refused(make_server, tmp_path):
    s = make_server()
    c = s.client()
    kept = c.send_message_to_globe(m.SendMessageToGlobeRequest(to=HK, message="kept")).body.message_id
    backup = tmp_path / "b.backup"
    s.cli("backup", "--to", str(backup))
    inode = os.stat(os.path.join(s.data_dir, "petrel.sqlite")).st_ino
    r = petrel("restore", "--from", backup, "--data-dir", s.data_dir, "--force")
    assert r.returncode != 0
    assert "petrel serve is running on" in r.stderr and "stop it before restoring" in r.stderr, r.stderr
    assert os.stat(os.path.join(s.data_dir, "petrel.sqlite")).st_ino == inode
    assert query(c, kept).message == "kept"

    # Stopped, the directory still holds a store: replaced only with --force.
    s.stop()
    r = petrel("restore", "--from", backup, "--data-dir", s.data_dir)
    assert r.returncode != 0 and "already holds a store" in r.stderr and "--force" in r.stderr, r.stderr
    r = petrel("restore", "--from", backup, "--data-dir", s.data_dir, "--force")
    assert r.returncode == 0, r.stderr
    assert "is this store's master key" in r.stdout


def test_restore_refuses_a_wrong_file_with_a_sentence(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not a backup\n")
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE t (x)")
    target = tmp_path / "target"
    cases = {text: "is not a Petrel backup: it is not a SQLite database",
             other: "is a SQLite database but not a Petrel store",
             tmp_path / "missing": "cannot read"}
    for path, sentence in cases.items():
        r = petrel("restore", "--from", path, "--data-dir", target)
        assert r.returncode != 0 and sentence in r.stderr, r.stderr
        assert "Error" in r.stderr and "Traceback" not in r.stderr
    assert not (target / "petrel.sqlite").exists()
    assert not [f for f in os.listdir(target) if "partial" in f]


def test_a_backup_without_its_key_says_so_and_the_restore_needs_it(make_server, tmp_path):
    s = make_server()
    c = s.client()
    sent = c.send_message_to_globe(m.SendMessageToGlobeRequest(to=HK, message="needs its key")).body.message_id
    backup = tmp_path / "nokey.backup"
    r = s.cli("backup", "--to", str(backup))
    assert "IMPORTANT" in r.stderr and "master key" in r.stderr and "--with-key" in r.stderr, r.stderr
    fingerprint = re.search(r"fingerprint ([0-9a-f]{16})", r.stderr).group(1)
    assert not os.path.exists(str(backup) + ".key")
    r = s.cli("backup", "--to", str(backup), check=False)
    assert r.returncode != 0 and "exists" in r.stderr and "--force" in r.stderr

    restored = tmp_path / "restored"
    r = petrel("restore", "--from", backup, "--data-dir", restored)
    assert r.returncode == 0, r.stderr
    assert "IMPORTANT" in r.stderr and fingerprint in r.stderr and "PETREL_MASTER_KEY" in r.stderr
    assert not (restored / "master.key").exists()

    # petrel serve refuses the store without its key, and opens it with the key given.
    with pytest.raises(RuntimeError, match="already has a master key"):
        make_server(data_dir=restored)
    assert not (restored / "master.key").exists()
    key = (tmp_path / "data0" / "master.key").read_text().strip()
    s2 = make_server(data_dir=restored, env={"PETREL_MASTER_KEY": key})
    assert query(s2.client(s.ak, s.sk), sent).message == "needs its key"

    # A key file that is not the backup's is refused before anything is replaced.
    wrong = tmp_path / "wrong.key"
    wrong.write_text("ab" * 32 + "\n")
    r = petrel("restore", "--from", backup, "--data-dir", tmp_path / "again", "--key", wrong)
    assert r.returncode != 0 and "is not this backup's master key" in r.stderr, r.stderr
    assert not (tmp_path / "again" / "petrel.sqlite").exists()


def test_backup_names_what_it_cannot_copy(tmp_path):
    r = petrel("backup", "--to", tmp_path / "x", "--data-dir", tmp_path / "d",
               "--store", "postgres://petrel:secret@127.0.0.1:1/petrel")
    assert r.returncode != 0 and "pg_dump" in r.stderr and "master key" in r.stderr, r.stderr
    r = petrel("backup", "--to", tmp_path / "x", "--data-dir", tmp_path / "nowhere")
    assert r.returncode != 0 and "no Petrel store at" in r.stderr and "PETREL_DATA_DIR" in r.stderr, r.stderr
    assert not (tmp_path / "x").exists() and not (tmp_path / "nowhere").exists()
