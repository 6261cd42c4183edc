"""Integration tests: the official Alibaba Cloud SDKs against a real `petrel serve` process."""
import json
import os
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest
import requests
from alibabacloud_dysmsapi20180501.client import Client
from alibabacloud_tea_openapi import models as open_api_models

REPO = Path(__file__).resolve().parents[2]
PETREL = os.environ.get("PETREL_BIN", str(REPO / ".build" / "debug" / "petrel"))
PEERS = REPO / "tests" / "peers"          # third-party SMPP peers and the SDK client script

# Numbers the numbering plan accepts (Hong Kong and Singapore mobiles); the ending picks the sandbox outcome.
HK = "85291234567"
SG = "6581234567"
HK_FAIL = "85291234666"
HK_EXPIRE = "85291234777"
HK_SLOW = "85291234555"


class Server:
    """A `petrel serve` child process on a free port with its own data directory."""

    def __init__(self, data_dir, config=None, env=None):
        self.data_dir = str(data_dir)
        self.ak = "testAccessKeyId" + uuid.uuid4().hex[:6]
        self.sk = "testAccessKeySecret" + uuid.uuid4().hex[:6]
        self.config = config
        self.extra_env = env or {}
        self.proc = None
        self.port = None
        self.output = []

    def env(self):
        env = dict(os.environ)
        env.update({"PETREL_ACCESS_KEY_ID": self.ak, "PETREL_ACCESS_KEY_SECRET": self.sk})
        env.update(self.extra_env)
        return env

    def start(self, timeout=60):
        args = [PETREL, "serve", "--listen", "127.0.0.1:0", "--data-dir", self.data_dir]
        if self.config is not None:
            path = Path(self.data_dir + ".yaml")
            path.write_text(self.config if isinstance(self.config, str) else json.dumps(self.config))
            args += ["--config", str(path)]
        return self.launch(args, timeout)

    def launch(self, args, timeout):
        """Runs `args` (a `petrel serve`), waits for its listening line, keeps its output drained, checks /healthz."""
        self.output = []
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=self.env(), text=True)
        deadline = time.time() + timeout
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("petrel serve exited:\n" + "".join(self.output))
            self.output.append(line)
            if line.startswith("Petrel listening on http://"):
                self.port = int(line.split("http://", 1)[1].split(" ")[0].rsplit(":", 1)[1])
                break
        else:
            raise RuntimeError("petrel serve did not start:\n" + "".join(self.output))
        # Keep draining output so the child never blocks on a full pipe.
        import threading
        threading.Thread(target=self._drain, daemon=True).start()
        assert requests.get(self.url("/healthz"), timeout=5).status_code == 200
        return self

    def _drain(self):
        for line in self.proc.stdout:
            self.output.append(line)

    def url(self, path="/"):
        return f"http://127.0.0.1:{self.port}{path}"

    @property
    def endpoint(self):
        return f"127.0.0.1:{self.port}"

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode if self.proc else None

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def client(self, ak=None, sk=None, algo="v3"):
        cfg = open_api_models.Config(
            access_key_id=ak or self.ak, access_key_secret=sk or self.sk, endpoint=self.endpoint, protocol="http",
            region_id="ap-southeast-1", read_timeout=10000, connect_timeout=5000)
        if algo == "v2":
            cfg.signature_algorithm = "v2"
        return Client(cfg)

    def cli(self, *args, check=True):
        r = subprocess.run([PETREL, *args, "--data-dir", self.data_dir], capture_output=True, text=True, env=self.env(), timeout=60)
        if check and r.returncode != 0:
            raise AssertionError(f"petrel {' '.join(args)} failed: {r.stdout}{r.stderr}")
        return r


FAST_SANDBOX = {"sandbox": {"deliveryDelayMs": 100, "slowDelayMs": 2500}, "dispatcher": {"pollMs": 50}}


@pytest.fixture
def make_server(tmp_path):
    servers = []

    def make(config=FAST_SANDBOX, env=None, data_dir=None):
        s = Server(data_dir or tmp_path / f"data{len(servers)}", config=config, env=env)
        servers.append(s)
        return s.start()

    yield make
    for s in servers:
        s.stop()


@pytest.fixture
def server(make_server):
    return make_server()


def wait_for(predicate, timeout=15, interval=0.05):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"condition not met in {timeout}s (last value {last!r})")
