"""Three `petrel serve` nodes on one PostgreSQL server, each in its own network namespace with its own address and
the database in a fourth, all made by this test (`ip netns`, veth pairs on a bridge in a switch namespace; the
test's own namespace joins it too, and `petrel smsc`, the carrier, and the loaders run there). The nodes must divide the work (each node's
petrel_smpp_submits_total holds a share), send no message twice without a crash, and, after one node's `kill -9`
in the middle of the load, the other two take over its leases: every accepted MessageId ends delivered, the ones
the dead node held among them, and the carrier's resubmissions stay within what the dead node held
(docs/configuration.md, "Several nodes on PostgreSQL"). Skipped only when the kernel refuses network namespaces
(`ip netns add` fails, e.g. without root); the namespaces, links and processes go in a `finally`."""
import glob
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import uuid

import pytest
import requests
from alibabacloud_dysmsapi20180501 import models as m

from conftest import PETREL, Server, wait_for
from peers import Process
from receiver import free_port

WINDOW = 50
LEASE_MS = 4000
PG_PORT = 5432                     # the database's own namespace: no other server listens there


def sh(*args, check=True):
    return subprocess.run(args, capture_output=True, text=True, timeout=60, check=check)


def psql(url, sql):
    out = subprocess.run(["psql", url, "-tA", "-F", "\t", "-c", sql], capture_output=True, text=True, timeout=60,
                         check=True)
    return [line.split("\t") for line in out.stdout.splitlines() if line]


class Network:
    """A bridge in a namespace of its own (the switch) and one namespace per host on it (10.N.M.k), each joined by a
    veth pair; the test's own namespace joins it too, at 10.N.M.1. The bridge is not in the test's namespace so that
    the host's firewall (a FORWARD policy of DROP with bridge-nf-call-iptables, as Docker hosts have) never sees the
    traffic between hosts. `close` deletes them all; processes must be stopped before."""

    def __init__(self):
        tag = uuid.uuid4().hex[:6]
        self.tag = tag
        self.prefix = f"10.231.{int(tag[:2], 16) % 250 + 1}"
        self.switch = f"petrel-{tag}-switch"
        self.bridge = f"ptb{tag}"
        self.host_link = f"ptv{tag}0"
        self.namespaces = []
        self.links = []

    def open(self):
        probe = f"petrel-{self.tag}-probe"
        r = sh("ip", "netns", "add", probe, check=False)
        if r.returncode != 0:
            pytest.skip(f"the kernel refuses network namespaces here (`ip netns add`: {r.stderr.strip()})")
        sh("ip", "netns", "del", probe)
        sh("ip", "netns", "add", self.switch)
        self.namespaces.append(self.switch)
        sw = ("ip", "netns", "exec", self.switch)
        sh(*sw, "ip", "link", "add", self.bridge, "type", "bridge")
        sh(*sw, "ip", "link", "set", self.bridge, "up")
        # The test's namespace on the switch, at .1.
        sh("ip", "link", "add", self.host_link, "type", "veth", "peer", "name", f"pts{self.tag}0")
        self.links.append(self.host_link)
        self._plug(f"pts{self.tag}0")
        sh("ip", "addr", "add", f"{self.prefix}.1/24", "dev", self.host_link)
        sh("ip", "link", "set", self.host_link, "up")
        return self

    def _plug(self, link):
        """Moves `link` into the switch and onto its bridge."""
        sh("ip", "link", "set", link, "netns", self.switch)
        sh("ip", "netns", "exec", self.switch, "ip", "link", "set", link, "master", self.bridge)
        sh("ip", "netns", "exec", self.switch, "ip", "link", "set", link, "up")

    @property
    def host_address(self):
        return f"{self.prefix}.1"

    def add(self, name, k):
        """A namespace `petrel-TAG-NAME` at 10.N.M.k; returns (namespace, address)."""
        ns = f"petrel-{self.tag}-{name}"
        outer, inner = f"ptv{self.tag}{k}", f"ptp{self.tag}{k}"
        sh("ip", "netns", "add", ns)
        self.namespaces.append(ns)
        sh("ip", "link", "add", outer, "type", "veth", "peer", "name", inner)
        self.links.append(outer)
        sh("ip", "link", "set", inner, "netns", ns)
        self._plug(outer)
        address = f"{self.prefix}.{k}"
        sh("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
        sh("ip", "netns", "exec", ns, "ip", "addr", "add", f"{address}/24", "dev", inner)
        sh("ip", "netns", "exec", ns, "ip", "link", "set", inner, "up")
        return ns, address

    def close(self):
        for ns in self.namespaces:
            sh("ip", "netns", "del", ns, check=False)       # the veth pairs and the bridge go with their namespaces
        for link in self.links:
            sh("ip", "link", "del", link, check=False)      # already gone unless a namespace was never made


class Database:
    """A throwaway PostgreSQL server (Debian's, as scripts/postgres.sh starts it) inside namespace `ns`, listening
    on `address` only, with role and database petrel; durable settings are the defaults."""

    def __init__(self, ns, address, allow):
        self.ns, self.address, self.allow = ns, address, allow
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: [int(x) for x in re.findall(r"\d+", p)])
        assert bins, "no PostgreSQL server binaries: scripts/test.sh installs Debian's postgresql"
        self.bin = os.path.dirname(bins[-1])
        self.dir = tempfile.mkdtemp(prefix="petrel-netns-pg-")      # not under pytest's 0700 tmp: postgres owns it
        self.url = f"postgres://petrel:petrel@{address}:{PG_PORT}/petrel"

    def as_pg(self, *args):
        return sh("ip", "netns", "exec", self.ns, "runuser", "-u", "postgres", "--", *args)

    def start(self):
        shutil.chown(self.dir, "postgres", "postgres")
        os.chmod(self.dir, 0o700)
        pw = os.path.join(self.dir, "..", f"{os.path.basename(self.dir)}.pw")
        with open(pw, "w") as f:
            f.write("postgres\n")
        os.chmod(pw, 0o644)
        try:
            self.as_pg(f"{self.bin}/initdb", "-D", self.dir, "-U", "postgres", f"--pwfile={pw}", "--auth-local=trust",
                       "--auth-host=scram-sha-256", "-E", "UTF8")
        finally:
            os.unlink(pw)
        with open(os.path.join(self.dir, "postgresql.conf"), "a") as f:
            f.write(f"listen_addresses = '{self.address}'\nport = {PG_PORT}\nunix_socket_directories = '{self.dir}'\n"
                    "max_connections = 300\n")
        with open(os.path.join(self.dir, "pg_hba.conf"), "a") as f:
            f.write(f"host all all {self.allow} scram-sha-256\n")
        self.as_pg(f"{self.bin}/pg_ctl", "-D", self.dir, "-l", f"{self.dir}/server.log", "-w", "start")
        for sql in ("CREATE ROLE petrel LOGIN PASSWORD 'petrel'", "CREATE DATABASE petrel OWNER petrel"):
            self.as_pg(f"{self.bin}/psql", "-h", self.dir, "-p", str(PG_PORT), "-U", "postgres", "-d", "postgres",
                       "-v", "ON_ERROR_STOP=1", "-qc", sql)
        return self

    def stop(self):
        sh("runuser", "-u", "postgres", "--", f"{self.bin}/pg_ctl", "-D", self.dir, "-m", "immediate", "-w", "stop",
           check=False)
        shutil.rmtree(self.dir, ignore_errors=True)


class NodeServer(Server):
    """`petrel serve` run with `ip netns exec NS`, listening on the namespace's address."""

    def __init__(self, ns, address, data_dir, config, env):
        super().__init__(data_dir, config=config, env=env)
        self.ns, self.address = ns, address
        self.ak, self.sk = "sharedKeyId", "sharedKeySecret0123"

    def start(self, timeout=60):
        path = f"{self.data_dir}.yaml"
        with open(path, "w") as f:
            f.write(json.dumps(self.config))
        args = ["ip", "netns", "exec", self.ns, PETREL, "serve", "--listen", f"{self.address}:8080", "--data-dir",
                self.data_dir, "--config", path]
        # `ip netns exec` execs the command: the child's pid is petrel's, so kill9 kills the node itself.
        return self.launch(args, timeout)

    def url(self, path="/"):
        return f"http://{self.address}:{self.port}{path}"

    @property
    def endpoint(self):
        return f"{self.address}:{self.port}"

    def submits(self):
        """This node's accepted submit_sm, from its own /metrics."""
        text = requests.get(self.url("/metrics"), timeout=5).text
        return sum(float(v) for v in re.findall(r'^petrel_smpp_submits_total\{[^}]*outcome="accepted"[^}]*\} (\S+)$',
                                                  text, re.M))


class Carrier(Process):
    """`petrel smsc` in the test's namespace, at .1 on the switch (where the nodes reach it)."""

    def __init__(self, tmp, host):
        self.port = free_port()
        self.summary_path = str(tmp / "carrier.json")
        super().__init__([PETREL, "smsc", "--listen", f"{host}:{self.port}", "--system-id", "petrel", "--password",
                          "secret", "--receipt-delay-ms", "100", "--summary", self.summary_path],
                         ready="Petrel SMSC listening")

    def summary(self):
        try:
            with open(self.summary_path) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}


class Loader(threading.Thread):
    """Batches of 100 unique texts (the carrier recognises a resubmission by destination and text) until `limit`
    messages are accepted or `stopping` is set; keeps the MessageIds of answered requests only."""

    def __init__(self, server, first, limit):
        super().__init__(daemon=True)
        self.server, self.seq, self.limit = server, first, limit
        self.accepted, self.failures = [], 0
        self.stopping = threading.Event()

    def run(self):
        client = None
        while not self.stopping.is_set() and len(self.accepted) < self.limit:
            try:
                client = client or self.server.client()
                to, texts = [], []
                while len(to) < 100:
                    self.seq += 1
                    number = f"8529{2000000 + self.seq % 900000:07d}"
                    if number[-3:] in ("555", "666", "777", "888") or number[-3:].startswith("90"):
                        continue                        # the sandbox's and the simulator's magic endings
                    to.append(number)
                    texts.append(f"netns {self.seq}")
                body = client.batch_send_message_to_globe(m.BatchSendMessageToGlobeRequest(
                    to=json.dumps(to), message=json.dumps(texts))).body
                if body.response_code == "OK":
                    self.accepted += [int(i) for i in json.loads(body.message_id_list)]
                time.sleep(0.02)                        # a steady load, not a burst the queue swallows at once
            except Exception:
                self.failures += 1                      # the node is down: nothing was promised
                client = None
                time.sleep(0.1)


def run_loaders(loaders, kill=None):
    for loader in loaders:
        loader.start()
    result = kill() if kill else None
    for loader in loaders:
        loader.join(timeout=60)
        loader.stopping.set()
    return result


def test_three_nodes_in_namespaces_divide_the_work_and_survive_a_kill9(tmp_path):
    net = Network().open()
    db, nodes, smsc = None, [], None
    started = time.time()
    try:
        db_ns, db_addr = net.add("db", 20)
        db = Database(db_ns, db_addr, allow=f"{net.prefix}.0/24").start()
        smsc = Carrier(tmp_path, net.host_address)
        config = {
            "channels": [{"id": "sink", "type": "smpp", "host": net.host_address, "port": smsc.port,
                          "systemId": "petrel", "password": "secret", "window": WINDOW, "responseTimeout": 2,
                          "sessions": 1}],
            "routes": [{"channels": ["sink"]}],
            "dispatcher": {"pollMs": 50, "leaseMs": LEASE_MS},
        }
        env = {"PETREL_STORE": db.url, "PETREL_MASTER_KEY": "cd" * 32}
        for k, name in enumerate("abc"):
            ns, addr = net.add(name, 11 + k)
            nodes.append(NodeServer(ns, addr, tmp_path / name, config, env).start())
        a = nodes[0]
        startup = time.time() - started

        def statuses():
            return {int(i): int(s) for i, s in psql(db.url, "SELECT id, status FROM messages")}

        def settle(ids, timeout):
            try:
                wait_for(lambda: all(st == 3 for st in map(statuses().get, ids)), timeout=timeout, interval=0.5)
            except AssertionError:
                print(psql(db.url, "SELECT status, lease_owner, COUNT(*) FROM messages GROUP BY 1, 2"))
                print(psql(db.url, "SELECT * FROM nodes"), smsc.summary())
                for n in nodes:
                    print(n.ns, "".join(n.output[-20:]))
                raise

        # 1. All three take requests; the queue is shared, and each node must have sent a share of it.
        first = [Loader(n, 10_000_000 * (k + 1), 700) for k, n in enumerate(nodes)]
        run_loaders(first)
        ids1 = [i for loader in first for i in loader.accepted]
        assert all(len(loader.accepted) == 700 for loader in first), [len(x.accepted) for x in first]
        settle(ids1, timeout=60)
        phase1 = time.time() - started
        wait_for(lambda: smsc.summary().get("accepted", 0) >= len(ids1), timeout=5)
        time.sleep(1.2)                                     # the carrier rewrites its summary every second
        sink1 = smsc.summary()
        shares = [n.submits() for n in nodes]
        print(json.dumps({"phase": 1, "accepted": len(ids1), "submits_per_node": shares, "sink": sink1}))
        assert sum(shares) == sink1["accepted"], (shares, sink1)
        for n, share in zip(nodes, shares):
            assert share >= 0.1 * len(ids1), f"{n.ns} sent {share} of {len(ids1)}: the nodes did not divide the work"
        # Without a crash nothing is sent twice: one submission per message (the carrier counts repeats of a
        # destination and text, and every text is one message's).
        assert sink1["duplicates"] == 0 and sink1["accepted"] == len(ids1), sink1

        # 2. Load again; node a is killed with SIGKILL while it holds claims. b and c take its leases over.
        a_id = int(psql(db.url, f"SELECT id FROM nodes WHERE name LIKE '%:{a.data_dir}'")[0][0])
        held_sql = f"SELECT id FROM messages WHERE status = 1 AND lease_owner = {a_id}"

        def kill():
            # Mid-run: once a has sent some of this load and holds claims (in its window or about to be).
            wait_for(lambda: a.submits() >= shares[0] + 200 and len(psql(db.url, held_sql)) >= 20, timeout=30,
                     interval=0.02)
            a.kill9()
            second[0].stopping.set()                        # what a answered before it died is all it promised
            return [int(r[0]) for r in psql(db.url, held_sql)]

        second = [Loader(n, 10_000_000 * (k + 1) + 500_000, 1000) for k, n in enumerate(nodes)]
        held = run_loaders(second, kill)
        ids2 = [i for loader in second for i in loader.accepted]
        ids = ids1 + ids2
        assert len(set(ids)) == len(ids), "message ids are unique across nodes"
        assert held, "node a held no claim when it was killed: nothing to take over"
        assert len(held) <= 4 * WINDOW, held                # docs: at most 4 windows per bind
        settle(ids, timeout=60)
        st = statuses()
        assert all(st[i] == 3 for i in held), "the dead node's claims were sent by the others"
        owners = {int(o) for o, in psql(db.url, f"SELECT DISTINCT COALESCE(lease_owner, -1) FROM messages WHERE id IN "
                                                f"({','.join(map(str, held))})")}
        assert a_id not in owners, owners
        # A request a committed but died before answering was never promised, yet its messages are queued like any
        # other: the others send them too. Every row ends delivered, and the carrier saw each once (and again
        # only what a held).
        settle([int(i) for i, in psql(db.url, "SELECT id FROM messages")], timeout=30)
        rows = int(psql(db.url, "SELECT COUNT(*) FROM messages")[0][0])
        assert rows >= len(ids)
        wait_for(lambda: smsc.summary().get("dlr_acked", 0) >= rows, timeout=5)
        time.sleep(1.2)                                     # the carrier rewrites its summary every second
        after = [n.submits() for n in nodes[1:]]
        sink = smsc.summary()
        print(json.dumps({"phase": 2, "accepted": len(ids), "rows": rows, "held_by_a": len(held), "submits_b_c": after,
                          "sink": sink, "startup_s": round(startup, 1), "phase1_s": round(phase1, 1),
                          "total_s": round(time.time() - started, 1)}))
        # Every accepted message reached the carrier; a repeat only of what a held when it died.
        assert sink["accepted"] - sink["duplicates"] == rows, (sink, rows)
        assert sink["duplicates"] <= len(held), (sink, len(held))
    finally:
        for n in nodes:
            n.stop()
        if smsc:
            smsc.stop()
        if db:
            db.stop()
        net.close()
