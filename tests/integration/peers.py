"""Third-party SMPP peers (tests/peers) and `petrel smsc`, as pytest helpers."""
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time

from conftest import PEERS, PETREL


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Process:
    def __init__(self, args, ready, timeout=30, env=None):
        self.output = []
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        deadline = time.time() + timeout
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"{args[0]} exited:\n" + "".join(self.output))
            self.output.append(line)
            if ready in line:
                break
        else:
            raise RuntimeError(f"{args} did not start:\n" + "".join(self.output))
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self):
        for line in self.proc.stdout:
            self.output.append(line)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class ThirdPartySMSC(Process):
    """tests/peers/smsc.py: the smpp34 stack (Rust core) behind a credential-checking front."""

    def __init__(self, tmp, *extra, system_id="petrel", password="secret"):
        self.port = free_port()
        self.control_port = free_port()
        self.summary_path = str(tmp / f"smsc-{self.port}.json")
        super().__init__([sys.executable, str(PEERS / "smsc.py"), "--port", str(self.port),
                          "--backend-port", str(free_port()), "--system-id", system_id, "--password", password,
                          "--summary", self.summary_path, "--dlr-delay", "0.2",
                          "--control-port", str(self.control_port), *extra], ready="SMSC (smpp34")

    def deliver(self, *pdus, timeout=30):
        """Sends mobile-originated deliver_sm (dicts: from, to, hex, esm_class, data_coding, tlvs) one after the other;
        returns each answer's command_status."""
        with socket.create_connection(("127.0.0.1", self.control_port), timeout=timeout) as c:
            c.sendall(json.dumps({"deliver": list(pdus)}).encode() + b"\n")
            line = c.makefile().readline()
        answers = json.loads(line)
        if not isinstance(answers, list):
            raise AssertionError(f"the SMSC could not send: {answers}")
        return answers

    def summary(self):
        try:
            with open(self.summary_path) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}


class PetrelSMSC(Process):
    def __init__(self, tmp, *extra):
        self.port = free_port()
        self.summary_path = str(tmp / f"petrel-smsc-{self.port}.json")
        super().__init__([PETREL, "smsc", "--listen", f"127.0.0.1:{self.port}", "--system-id", "petrel", "--password", "secret",
                          "--summary", self.summary_path, *extra], ready="Petrel SMSC listening")

    def summary(self):
        try:
            with open(self.summary_path) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}


def carrier_config(port, routes=None, **channel):
    ch = {"id": "carrier-a", "type": "smpp", "host": "127.0.0.1", "port": port, "systemId": "petrel",
          "password": "secret", "window": 100, "responseTimeout": 2}
    ch.update(channel)
    return {"channels": [ch], "routes": routes or [{"channels": ["carrier-a"]}],
            "sandbox": {"deliveryDelayMs": 100}, "dispatcher": {"pollMs": 50}}


def statuses(server):
    """Message counts by status, read from the SQLite file (WAL lets a reader in while the server writes)."""
    db = sqlite3.connect(f"file:{os.path.join(server.data_dir, 'petrel.sqlite')}?mode=ro", uri=True, timeout=10)
    try:
        return dict(db.execute("SELECT status, COUNT(*) FROM messages GROUP BY status").fetchall())
    finally:
        db.close()
