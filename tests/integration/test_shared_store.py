"""Two `petrel serve` nodes on one PostgreSQL database (the server scripts/test.sh starts): API load spread over
both, SMPP into one sink, one node killed with SIGKILL in the middle. Every accepted MessageId must end delivered,
the sink must have seen each message, duplicates must stay within the in-flight window, and the customer's
receiver must hold a receipt for every message."""
import json
import os
import subprocess
import time
import uuid

import pytest
from alibabacloud_dysmsapi20180501 import models as m
from alibabacloud_tea_openapi.exceptions import ClientException

import signer
from chaos import Loader
from conftest import HK, PETREL, Server, wait_for
from peers import PetrelSMSC
from receiver import Receiver

SERVER = os.environ.get("PETREL_TEST_POSTGRES")
WINDOW = 50
LEASE_MS = 4000


def psql(url, sql):
    out = subprocess.run(["psql", url, "-tA", "-F", "\t", "-c", sql], capture_output=True, text=True, timeout=60, check=True)
    return [line.split("\t") for line in out.stdout.splitlines() if line]


@pytest.fixture
def database():
    if not SERVER:
        pytest.fail("PETREL_TEST_POSTGRES is not set: run scripts/test.sh, which starts a PostgreSQL server")
    name = "petrel_it_" + uuid.uuid4().hex[:8]
    psql(SERVER, f"CREATE DATABASE {name}")
    yield SERVER.rsplit("/", 1)[0] + "/" + name
    psql(SERVER, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def node(tmp_path, name, url, config, ak="sharedKeyId", sk="sharedKeySecret0123"):
    s = Server(tmp_path / name, config=config, env={"PETREL_STORE": url, "PETREL_MASTER_KEY": "ab" * 32})
    s.ak, s.sk = ak, sk
    return s.start()


def test_two_nodes_share_the_work_and_survive_a_kill9(tmp_path, database):
    receiver = Receiver(secret="shared-webhook-secret").start()
    smsc = PetrelSMSC(tmp_path, "--receipt-delay-ms", "200")
    config = {
        "channels": [{"id": "sink", "type": "smpp", "host": "127.0.0.1", "port": smsc.port, "systemId": "petrel",
                      "password": "secret", "window": WINDOW, "responseTimeout": 2, "sessions": 2, "maxBinds": 3}],
        "routes": [{"channels": ["sink"]}],
        "dispatcher": {"pollMs": 50, "leaseMs": LEASE_MS},
        "receipts": {"maxWaitMs": 200, "pollMs": 100, "retryBaseMs": 200, "retryMaxMs": 1000},
        "accounts": [{"name": "default", "receiptUrl": receiver.url, "webhookSecret": "shared-webhook-secret"}],
    }
    a = node(tmp_path, "a", database, config)
    b = node(tmp_path, "b", database, config)
    loaders = [Loader(a), Loader(b)]
    loaders[1].seq = 10_000_000                       # distinct numbers and texts per loader
    try:
        for loader in loaders:
            loader.start()
        time.sleep(3)
        a.kill9()                                     # mid-load: its claims, pushes and binds are left behind
        accepted_by_a = len(loaders[0].accepted)
        # What the dead node held (claimed, in its window or answered but not yet recorded): all that can be resent.
        held = int(psql(database, f"""SELECT COUNT(*) FROM messages WHERE status = 1 AND lease_owner =
                                      (SELECT id FROM nodes WHERE name LIKE '%:{a.data_dir}')""")[0][0])
        time.sleep(3)
        for loader in loaders:
            loader.stopping.set()
            loader.join()
        ids = [int(i) for loader in loaders for i in loader.accepted]
        assert accepted_by_a > 0 and len(loaders[1].accepted) > 0, "both nodes took requests"
        assert len(set(ids)) == len(ids), "message ids are unique across nodes"

        def states():
            return {int(i): int(s) for i, s in psql(database, "SELECT id, status FROM messages")}

        def settled():
            st, pushed = states(), receiver.by_message()
            return all(st.get(i) == 3 for i in ids) and all(str(i) in pushed or i in pushed for i in ids)

        # The dead node's claims come back when their lease ends; b sends them and pushes every receipt.
        try:
            wait_for(settled, timeout=120, interval=0.5)
        except AssertionError:
            print(psql(database, "SELECT status, lease_owner, COUNT(*) FROM messages GROUP BY 1, 2"))
            print(psql(database, "SELECT * FROM bind_slots"), psql(database, "SELECT * FROM nodes"))
            print("".join(b.output[-40:]))
            raise
        st = states()
        assert sum(1 for i in ids if st.get(i) is None) == 0
        assert sum(1 for i in ids if st.get(i) == 3) == len(ids)
        time.sleep(1.5)                               # the simulator rewrites its summary every second
        sink = smsc.summary()
        assert sink["accepted"] - sink["duplicates"] >= len(ids), sink
        # Resent after the kill: only what a held when it died, and of that only what had reached the sink
        # (docs/configuration.md, "Several nodes").
        print(json.dumps({"accepted": len(ids), "accepted_by_a": accepted_by_a, "held_by_a": held, "sink": sink}))
        assert sink["duplicates"] <= held <= 4 * WINDOW * 2, (sink, held)   # a claims at most 4 windows per bind
        # Two nodes wanting two binds each, on a channel allowed three: never more than three at once.
        assert 2 <= sink["max_sessions"] <= 3, sink
        receiver.check_signatures()
    finally:
        for loader in loaders:
            loader.stopping.set()
        a.stop()
        b.stop()
        smsc.stop()
        receiver.stop()


def test_nonces_and_keys_are_shared_between_nodes(tmp_path, database):
    a = node(tmp_path, "a", database, {"dispatcher": {"pollMs": 50}})
    b = node(tmp_path, "b", database, {"dispatcher": {"pollMs": 50}})
    try:
        first = signer.v3_request(a.endpoint, a.ak, a.sk, "SendMessageToGlobe", {"To": HK, "Message": "once"})
        assert signer.send(first).json()["ResponseCode"] == "OK"
        # The same nonce and date, signed for b's address: b has never seen it, the database has.
        replay = signer.v3_request(b.endpoint, b.ak, b.sk, "SendMessageToGlobe", {"To": HK, "Message": "once"},
                                   date=first["headers"]["x-acs-date"], nonce=first["headers"]["x-acs-signature-nonce"])
        r = signer.send(replay)
        assert r.status_code == 400 and r.json()["Code"] == "SignatureNonceUsed", r.text

        # A key made through one node's store works on the other at once; disabled, it stops on both.
        made = json.loads(subprocess.run(
            [PETREL, "keys", "create", "--name", "ops", "--store", database,
             "--data-dir", str(tmp_path / "cli")],
            capture_output=True, text=True, env={**os.environ, "PETREL_MASTER_KEY": "ab" * 32}, check=True).stdout)
        client = b.client(ak=made["AccessKeyId"], sk=made["AccessKeySecret"])
        assert client.send_message_to_globe(m.SendMessageToGlobeRequest(to=HK, message="hi")).body.response_code == "OK"
        subprocess.run([PETREL, "keys", "disable", made["AccessKeyId"], "--store", database,
                        "--data-dir", str(tmp_path / "cli")], env={**os.environ, "PETREL_MASTER_KEY": "ab" * 32}, check=True,
                       capture_output=True)
        for s in (a, b):
            with pytest.raises(ClientException) as e:
                s.client(ak=made["AccessKeyId"], sk=made["AccessKeySecret"]).send_message_to_globe(
                    m.SendMessageToGlobeRequest(to=HK, message="hi"))
            assert e.value.code == "InvalidAccessKeyId.Inactive"
    finally:
        a.stop()
        b.stop()
