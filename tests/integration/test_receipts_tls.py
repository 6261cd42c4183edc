"""Receipts pushed to https:// receivers: a private CA named by `caFile` (globally or per account, with a client
certificate), an untrusted certificate and a wrong host name (nothing delivered, parked with the reason)."""
import json

import pytest
from alibabacloud_dysmsapi20180501 import models as m

from conftest import HK, wait_for
from receiver import Receiver
from test_receipts import SECRET, batch, config, numbers, outbox
from tlscerts import CA, self_signed


@pytest.fixture
def receivers():
    made = []
    yield made
    for r in made:
        r.stop()


def https_receiver(made, tls, **kw):
    r = Receiver(secret=SECRET, tls=tls, host="localhost", **kw).start()
    made.append(r)
    return r


def parked(server):
    return [json.loads(line) for line in server.cli("receipts", "parked").stdout.splitlines()]


def test_https_receiver_with_a_private_ca_gets_signed_receipts(make_server, receivers, tmp_path):
    ca = CA(tmp_path / "ca")
    r = https_receiver(receivers, ca.issue("receiver"))
    s = make_server(config(r.url, tls={"caFile": ca.cert}))
    ids = batch(s.client(), numbers(120, 93300000))
    wait_for(lambda: set(r.by_message()) == set(ids), timeout=30)
    r.check_signatures()
    assert all(rep["Status"] == "1" for rep in r.reports())
    wait_for(lambda: outbox(s) == {}, timeout=5)


def test_a_client_certificate_and_ca_per_account(make_server, receivers, tmp_path):
    ca = CA(tmp_path / "ca")
    clients = CA(tmp_path / "clients", name="Receiver's client CA")
    r = https_receiver(receivers, ca.issue("receiver"), client_ca=clients.cert)
    cert, key = clients.issue("petrel", client=True)
    cfg = config(r.url)
    cfg["accounts"][0]["tls"] = {"caFile": ca.cert, "certFile": cert, "keyFile": key}
    s = make_server(cfg)
    mid = s.client().send_message_to_globe(m.SendMessageToGlobeRequest(to=HK, message="mutual")).body.message_id
    wait_for(lambda: mid in r.by_message(), timeout=20)
    r.check_signatures()


def test_an_untrusted_certificate_gets_nothing_and_the_push_is_parked_with_the_reason(make_server, receivers, tmp_path):
    r = https_receiver(receivers, self_signed(tmp_path / "self"))
    s = make_server(config(r.url, maxAttempts=2))             # the system trust store only
    mid = s.client().send_message_to_globe(m.SendMessageToGlobeRequest(to=HK, message="nobody")).body.message_id
    wait_for(lambda: outbox(s).get(1, 0) == 1, timeout=20)
    [p] = parked(s)
    assert p["MessageId"] == mid and "certificate not trusted" in p["LastError"], p
    assert r.posts == []


def test_a_wrong_host_name_fails_even_under_a_trusted_ca(make_server, receivers, tmp_path):
    ca = CA(tmp_path / "ca")
    r = https_receiver(receivers, ca.issue("elsewhere", dns=("elsewhere.example",), ips=()))
    s = make_server(config(r.url, maxAttempts=2, tls={"caFile": ca.cert}))
    mid = s.client().send_message_to_globe(m.SendMessageToGlobeRequest(to=HK, message="mismatch")).body.message_id
    wait_for(lambda: outbox(s).get(1, 0) == 1, timeout=20)
    [p] = parked(s)
    assert p["MessageId"] == mid and "host name mismatch" in p["LastError"] and "localhost" in p["LastError"], p
    assert r.posts == []


def test_tls_files_are_checked_at_startup(make_server, tmp_path):
    missing = str(tmp_path / "nope.pem")
    with pytest.raises(RuntimeError, match=r"receipts\.tls\.caFile: cannot read"):
        make_server(config(tls={"caFile": missing}))
    half = {"name": "default", "receiptUrl": "https://localhost/r", "tls": {"certFile": missing}}
    with pytest.raises(RuntimeError, match=r"accounts\[0\]\.tls\.certFile and accounts\[0\]\.tls\.keyFile go together"):
        make_server({**config(), "accounts": [half]})
