"""Inbound messages (issue 24): a third-party SMSC (PyPI smpp34) delivers customers' messages; Petrel stores each
before it answers, reassembles parts, and pushes Alibaba's SmsUp format to the account's moUrl."""
import json
import subprocess

import pytest
import requests
from alibabacloud_dysmsapi20180501 import models as m

from conftest import PETREL, wait_for
from peers import PetrelSMSC, ThirdPartySMSC, carrier_config, free_port
from receiver import Receiver

SECRET = "inbound-secret-0123456789"
PHONE = "85291230001"
DEST = "85260001234"


def config(smsc_port, mo_url, **inbound):
    cfg = carrier_config(smsc_port)
    cfg["receipts"] = {"maxWaitMs": 100, "pollMs": 50, "retryBaseMs": 100, "retryMaxMs": 400, "timeoutMs": 1000}
    cfg["accounts"] = [{"name": "default", "moUrl": mo_url, "webhookSecret": SECRET}]
    if inbound:
        cfg["inbound"] = inbound
    return cfg


@pytest.fixture
def smsc(tmp_path):
    peers = []

    def make(*extra):
        p = ThirdPartySMSC(tmp_path, *extra)
        peers.append(p)
        return p

    yield make
    for p in peers:
        p.stop()


@pytest.fixture
def receiver():
    made = []

    def make(**kw):
        r = Receiver(secret=SECRET, **kw)
        made.append(r)
        return r

    yield make
    for r in made:
        r.stop()


def bound(peer):
    wait_for(lambda: peer.summary().get("sessions", 0) >= 1, timeout=30)


def ucs2_parts(text, n, ref=0x2A):
    """`text` in UCS-2, cut into n UDH-concatenated parts (8-bit reference)."""
    data = text.encode("utf-16-be")
    size = -(-len(data) // n)
    size += size % 2
    chunks = [data[i:i + size] for i in range(0, len(data), size)]
    assert len(chunks) == n
    return [dict(**{"from": PHONE, "to": DEST}, esm_class=0x40, data_coding=8,
                 hex=(bytes([5, 0, 3, ref, n, k + 1]) + chunk).hex()) for k, chunk in enumerate(chunks)]


def smsups(r):
    return [item for item in r.reports()]


def test_a_three_part_ucs2_message_out_of_order_is_pushed_once_whole(smsc, make_server, receiver):
    r = receiver().start()
    peer = smsc()
    s = make_server(config(peer.port, r.url))
    bound(peer)
    text = "您好，我想改到星期五下午三点。谢谢！Thanks 👋 see you then, and bring the contract please."
    first, second, third = ucs2_parts(text, 3)
    # Out of order, and the first part delivered twice (a resend after a lost answer): stored once.
    assert peer.deliver(third, first, second, first) == [0, 0, 0, 0]
    wait_for(lambda: smsups(r), timeout=20)
    r.check_signatures()
    [up] = smsups(r)
    assert up["content"] == text and up["phone_number"] == PHONE and up["dest_code"] == DEST
    assert isinstance(up["sequence_id"], int) and len(up["send_time"]) == 19 and up["incomplete"] is False
    listed = [json.loads(line) for line in s.cli("inbound", "list", "--from", "+" + PHONE).stdout.splitlines()]
    assert [(x["Text"], x["Parts"], x["Account"]) for x in listed] == [(text, 3, "default")]
    metrics = {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
               for line in requests.get(s.url("/metrics"), timeout=5).text.splitlines()
               if line.startswith("petrel_inbound_")}
    assert metrics["petrel_inbound_parts_total"] == 4 and metrics["petrel_inbound_duplicates_total"] == 1
    assert metrics["petrel_inbound_messages_total"] == 1 and metrics["petrel_inbound_pushed_total"] == 1


def test_a_receiver_failing_three_times_gets_it_once_with_the_same_sequence_id(smsc, make_server, receiver):
    r = receiver().start()
    r.script = ["500", "wrong-body", "500"]
    peer = smsc()
    make_server(config(peer.port, r.url))
    bound(peer)
    assert peer.deliver({"from": PHONE, "to": DEST, "hex": b"STOP".hex()}) == [0]
    wait_for(lambda: smsups(r), timeout=30)
    with r.lock:
        posts = [(json.loads(body), ok) for (_, _, ok, body) in r.posts]
    assert [ok for _, ok in posts] == [False, False, False, True]
    assert len({p[0]["sequence_id"] for p, _ in posts}) == 1
    assert [u["content"] for u in smsups(r)] == ["STOP"]


def test_killed_after_the_answer_and_before_the_push_it_is_pushed_after_restart(smsc, make_server, receiver):
    port = free_port()                     # nothing listens yet: every push fails
    peer = smsc()
    s = make_server(config(peer.port, f"http://127.0.0.1:{port}/receipts"))
    bound(peer)
    assert peer.deliver({"from": PHONE, "to": DEST, "hex": b"reschedule please".hex()}) == [0]
    s.kill9()
    r = receiver(port=port).start()
    s.start()
    wait_for(lambda: smsups(r), timeout=30)
    assert [u["content"] for u in smsups(r)] == ["reschedule please"]


def test_what_cannot_be_decoded_is_kept(smsc, make_server, receiver):
    r = receiver().start()
    peer = smsc()
    s = make_server(config(peer.port, r.url))
    bound(peer)
    assert peer.deliver(
        {"from": PHONE, "to": DEST, "hex": "00410042ff", "data_coding": 8},       # UCS-2 of odd length
        {"from": PHONE, "to": DEST, "hex": "cafebabe", "data_coding": 4},         # 8-bit binary
        {"from": PHONE, "to": DEST, "hex": "63616fe9", "data_coding": 3},          # Latin-1
    ) == [0, 0, 0]
    wait_for(lambda: len(smsups(r)) == 3, timeout=20)
    assert sorted((u["content"], u["encoding"]) for u in smsups(r)) == [
        ("00410042ff", "hex"), ("cafebabe", "hex"), ("caoé", "latin1")]


def test_a_part_whose_siblings_never_come_is_delivered_alone_marked_incomplete(smsc, make_server, receiver):
    r = receiver().start()
    peer = smsc()
    make_server(config(peer.port, r.url, partWaitSeconds=1))
    bound(peer)
    first, _ = ucs2_parts("Hello there, friend", 2, ref=9)
    assert peer.deliver(first) == [0]
    wait_for(lambda: smsups(r), timeout=20)
    [up] = smsups(r)
    assert up["incomplete"] is True and up["content"] == "Hello ther"


def test_inbound_numbers_give_the_account(smsc, make_server, receiver):
    r = receiver().start()
    peer = smsc()
    cfg = config(peer.port, r.url, numbers=[{"number": "852600", "account": "acme"}])
    cfg["accounts"].append({"name": "acme", "moUrl": r.url, "webhookSecret": SECRET})
    s = make_server(cfg)
    bound(peer)
    assert peer.deliver({"from": PHONE, "to": DEST, "hex": b"yes".hex()},
                        {"from": PHONE, "to": "6590000000", "hex": b"no".hex()}) == [0, 0]
    wait_for(lambda: len(smsups(r)) == 2, timeout=20)
    assert sorted((u["content"], u["account"]) for u in smsups(r)) == [("no", "default"), ("yes", "acme")]
    with r.lock:
        accounts = sorted(h.get("X-Petrel-Account") for (h, _, ok, _) in r.posts if ok)
    assert accounts == ["acme", "default"]


def test_sandbox_inbound_takes_the_same_path(make_server, receiver):
    """POST /sandbox/inbound: the caller's account; a long text travels as several parts and is reassembled; with
    `retrospection: open` the message goes to the account that last sent to the phone."""
    r = receiver().start()
    s = make_server({"sandbox": {"deliveryDelayMs": 100}, "dispatcher": {"pollMs": 50},
                     "receipts": {"maxWaitMs": 100, "pollMs": 50},
                     "accounts": [{"name": "default", "moUrl": r.url, "webhookSecret": SECRET}]})
    long = "Yes, please move my appointment to Friday. " * 5
    answer = requests.post(s.url("/sandbox/inbound"), auth=(s.ak, s.sk), timeout=10,
                           json={"From": "+" + PHONE, "To": DEST, "Text": long})
    assert answer.status_code == 200 and answer.json() == {"Parts": 2}, answer.text
    wait_for(lambda: smsups(r), timeout=20)
    [up] = smsups(r)
    assert up["content"] == long and up["account"] == "default" and up["phone_number"] == PHONE
    bad = requests.post(s.url("/sandbox/inbound"), auth=(s.ak, s.sk), timeout=10, json={"From": "x y", "To": DEST, "Text": "a"})
    assert bad.status_code == 400 and "From" in bad.json()["Message"]
    assert requests.post(s.url("/sandbox/inbound"), timeout=10, json={"From": PHONE, "To": DEST, "Text": "a"}).status_code == 401


def test_the_same_text_twice_through_the_sandbox_is_two_messages(make_server, receiver):
    """A carrier's resend (same fields within the duplicate window) is dropped; the sandbox never resends, so a phone
    sending "STOP" twice is two messages, both pushed (and a long text twice is two whole messages)."""
    r = receiver().start()
    s = make_server({"sandbox": {"deliveryDelayMs": 100}, "dispatcher": {"pollMs": 50},
                     "receipts": {"maxWaitMs": 100, "pollMs": 50},
                     "accounts": [{"name": "default", "moUrl": r.url, "webhookSecret": SECRET}]})
    long = "Please call me back about the delivery window tomorrow. " * 4
    for text in ["STOP", "STOP", long, long]:
        answer = requests.post(s.url("/sandbox/inbound"), auth=(s.ak, s.sk), timeout=10,
                               json={"From": PHONE, "To": DEST, "Text": text})
        assert answer.status_code == 200, answer.text
    wait_for(lambda: len(smsups(r)) == 4, timeout=20)
    assert sorted(u["content"] for u in smsups(r)) == sorted(["STOP", "STOP", long, long])
    metrics = {line.split()[0]: float(line.split()[1]) for line in requests.get(s.url("/metrics"), timeout=5).text.splitlines()
               if line.startswith("petrel_inbound_")}
    assert metrics.get("petrel_inbound_duplicates_total", 0) == 0 and metrics["petrel_inbound_messages_total"] == 4


def test_a_reply_goes_to_the_account_that_last_sent_to_the_phone(make_server, receiver):
    r = receiver().start()
    s = make_server({"sandbox": {"deliveryDelayMs": 100, "retrospection": "open"}, "dispatcher": {"pollMs": 50},
                     "receipts": {"maxWaitMs": 100, "pollMs": 50},
                     "accounts": [{"name": "acme", "moUrl": r.url, "webhookSecret": SECRET}]})
    key = json.loads(s.cli("keys", "create", "--name", "acme", "--account", "acme", "--create-account").stdout)
    c = s.client(ak=key["AccessKeyId"], sk=key["AccessKeySecret"])
    c.send_message_to_globe(m.SendMessageToGlobeRequest(to=PHONE, message="Your table is booked. Reply to change."))
    wait_for(lambda: requests.get(s.url("/sandbox/messages"), params={"to": PHONE}, timeout=5).json()["Messages"])
    answer = requests.post(s.url("/sandbox/inbound"), timeout=10, json={"From": PHONE, "To": DEST, "Text": "change"})
    assert answer.status_code == 200, answer.text
    wait_for(lambda: smsups(r), timeout=20)
    assert [(u["content"], u["account"]) for u in smsups(r)] == [("change", "acme")]


def test_petrel_smsc_originates_long_messages(make_server, receiver, tmp_path):
    """`petrel smsc --mo-from --mo-text --mo-every`: long texts as several parts, reassembled and pushed."""
    r = receiver().start()
    text = "Ünïcode reply number {n}: " + "please call me back about the delivery window tomorrow. " * 2
    peer = PetrelSMSC(tmp_path, "--mo-from", PHONE, "--mo-text", text, "--mo-every", "200")
    try:
        make_server(config(peer.port, r.url))
        wait_for(lambda: len(smsups(r)) >= 3, timeout=30)
        ups = smsups(r)
        numbers = {u["content"][len("Ünïcode reply number "):].split(":")[0] for u in ups}
        assert {"1", "2", "3"} <= numbers
        for u in ups:
            assert u["content"].startswith("Ünïcode reply number ") and u["content"].endswith("tomorrow. ")
            assert u["incomplete"] is False and u["phone_number"] == PHONE and u["encoding"] == "ucs2"
        wait_for(lambda: peer.summary().get("mo_acked", 0) >= 6, timeout=10)
        assert peer.summary()["mo_parts"] > peer.summary()["mo_messages"]
    finally:
        peer.stop()
