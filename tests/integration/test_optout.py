"""Opt-out (issue 24): a customer's STOP, through the sandbox or a third-party SMSC (PyPI smpp34), puts the phone on
the account's suppression list; within 2 s its next MKT message is refused with isv.BLACK_KEY_CONTROL_LIMIT while
OTP still goes; START lifts it. On a shared PostgreSQL store the other node refuses within 2 s too."""
import json
import time

import requests
from alibabacloud_dysmsapi20180501 import models as m

from conftest import FAST_SANDBOX, wait_for
from peers import ThirdPartySMSC, carrier_config
from test_shared_store import database, node  # noqa: F401  (the fixture is used by name)

PHONE = "85291230077"
DEST = "85260001234"
BLACK = "isv.BLACK_KEY_CONTROL_LIMIT"


def send(client, type_, to=PHONE):
    return client.send_message_to_globe(m.SendMessageToGlobeRequest(to=to, message="Sale today", type=type_)).body


def sandbox_reply(s, text):
    answer = requests.post(s.url("/sandbox/inbound"), auth=(s.ak, s.sk), timeout=10,
                           json={"From": PHONE, "To": DEST, "Text": text})
    assert answer.status_code == 200, answer.text


def refused_within(client, seconds, code=BLACK):
    """Seconds until an MKT send to PHONE answers `code` (from now), or fails the test past `seconds`."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if send(client, "MKT").response_code == code:
            return time.monotonic() - start
        time.sleep(0.05)
    raise AssertionError(f"MKT to {PHONE} not answered {code} within {seconds} s")


def test_stop_through_the_sandbox_refuses_marketing_until_start(make_server):
    config = dict(FAST_SANDBOX, accounts=[{"name": "default"}],
                  optOut={"reply": "You will get no more offers. Reply START to resubscribe.", "replyFrom": "Petrel"})
    s = make_server(config)
    c = s.client()
    assert send(c, "MKT").response_code == "OK"
    sandbox_reply(s, " stop\n")
    assert refused_within(c, 2) < 2
    refused = send(c, "MKT")
    assert "opted out" in refused.response_description and refused.message_id is None
    assert send(c, "OTP").response_code == "OK" and send(c, "NOTIFY").response_code == "OK"
    batch = c.batch_send_message_to_globe(m.BatchSendMessageToGlobeRequest(
        to=json.dumps([PHONE, "85291230078"]), message=json.dumps(["a", "b"]), type="MKT")).body
    assert batch.response_code == "OK" and json.loads(batch.failed_list) == [PHONE]
    assert wait_for(lambda: "petrel_optout_phones 1" in requests.get(s.url("/metrics"), timeout=5).text, timeout=5)
    listed = [json.loads(line) for line in s.cli("optout", "list").stdout.splitlines()]
    assert [(x["Account"], x["Phone"], x["Source"]) for x in listed] == [("default", PHONE, "STOP")]
    # The confirmation went out as an ordinary message, though the phone is suppressed.
    wait_for(lambda: any(x["Message"].startswith("You will get no more") and x["From"] == "Petrel"
                         for x in requests.get(s.url("/sandbox/messages"), auth=(s.ak, s.sk), params={"to": PHONE},
                                               timeout=5).json()["Messages"]), timeout=10)
    sandbox_reply(s, "START")
    assert refused_within(c, 2, code="OK") < 2


def test_a_phone_toggling_stop_and_start_gets_a_bounded_number_of_confirmations(make_server):
    """Every confirmation is a message the account pays for: STOP, START, STOP, START … from one phone is answered
    `repliesPerPhoneDay` times a day, however often it toggles (the list itself still follows every word)."""
    config = dict(FAST_SANDBOX, accounts=[{"name": "default"}],
                  optOut={"reply": "Unsubscribed.", "startReply": "Welcome back.", "repliesPerPhoneDay": 2})
    s = make_server(config)
    c = s.client()

    def confirmations():
        got = requests.get(s.url("/sandbox/messages"), auth=(s.ak, s.sk), params={"to": PHONE}, timeout=5).json()
        return [x["Message"] for x in got["Messages"] if x["Message"] in ("Unsubscribed.", "Welcome back.")]

    for i, word in enumerate(["STOP", "START", "stop", "start", "Stop", "Start"]):
        sandbox_reply(s, word)
        # Each change is applied before the next (the list follows every word): wait for it to take effect.
        refused_within(c, 2, code=BLACK if i % 2 == 0 else "OK")
    wait_for(lambda: len(confirmations()) == 2, timeout=10)
    time.sleep(1.5)  # the watch reads changes every half second: the rest would have gone by now
    assert sorted(confirmations()) == ["Unsubscribed.", "Welcome back."]


def test_stop_through_smpp_refuses_marketing_until_start(make_server, tmp_path):
    peer = ThirdPartySMSC(tmp_path)
    try:
        cfg = carrier_config(peer.port)
        cfg["accounts"] = [{"name": "default"}]
        s = make_server(cfg)
        wait_for(lambda: peer.summary().get("sessions", 0) >= 1, timeout=30)
        c = s.client()
        assert send(c, "MKT").response_code == "OK"
        assert peer.deliver({"from": PHONE, "to": DEST, "hex": b"UNSUBSCRIBE".hex()}) == [0]
        assert refused_within(c, 2) < 2
        assert send(c, "OTP").response_code == "OK"
        assert peer.deliver({"from": PHONE, "to": DEST, "hex": b"unstop".hex()}) == [0]
        assert refused_within(c, 2, code="OK") < 2
    finally:
        peer.stop()


def test_the_cli_adds_imports_and_removes(make_server, tmp_path):
    s = make_server(dict(FAST_SANDBOX, accounts=[{"name": "default"}]))
    c = s.client()
    assert json.loads(s.cli("optout", "add", "+" + PHONE).stdout) == {"Added": 1}
    assert refused_within(c, 2) < 2
    (tmp_path / "list.csv").write_text("phone,name\n85291230001,Ann\n\n# a comment\n+85291230002,Bo\n85291230001\n")
    assert json.loads(s.cli("optout", "import", str(tmp_path / "list.csv")).stdout) == {"Read": 3, "Added": 2}
    assert refused_within(c, 2) < 2
    bad = s.cli("optout", "import", str(tmp_path / "list.csv"), "--account", "nobody", check=False)
    assert bad.returncode != 0 and "no account nobody" in bad.stderr
    (tmp_path / "bad.txt").write_text("85291230003\nnot a number\n")
    bad = s.cli("optout", "import", str(tmp_path / "bad.txt"), check=False)
    assert bad.returncode != 0 and "line 2: not a number" in bad.stderr
    full = s.cli("optout", "add", "85291230009", "--max-phones", "3", check=False)
    assert full.returncode != 0 and "optOut.maxPhones (3)" in full.stderr
    assert json.loads(s.cli("optout", "remove", PHONE, "85291230099").stdout) == {"Removed": 1}
    assert refused_within(c, 2, code="OK") < 2
    assert len(s.cli("optout", "list", "--account", "default").stdout.splitlines()) == 2


def test_a_stop_on_one_node_is_refused_by_the_other_within_2_s(tmp_path, database):  # noqa: F811
    config = dict(FAST_SANDBOX, accounts=[{"name": "default"}])
    a = node(tmp_path, "a", database, config)
    b = node(tmp_path, "b", database, config)
    try:
        cb = b.client()
        assert send(cb, "MKT").response_code == "OK"
        sandbox_reply(a, "STOP")
        assert refused_within(cb, 2) < 2
        assert send(cb, "OTP").response_code == "OK"
        sandbox_reply(a, "START")
        assert refused_within(cb, 2, code="OK") < 2
    finally:
        a.stop()
        b.stop()


def test_another_sites_post_to_sandbox_inbound_is_refused(make_server):
    """A signed-in console's cookie rides along with another site's POST: it must not opt the account's phones out."""
    s = make_server(dict(FAST_SANDBOX, accounts=[{"name": "default"}]))
    answer = requests.post(s.url("/sandbox/inbound"), auth=(s.ak, s.sk), timeout=10,
                           headers={"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"},
                           json={"From": PHONE, "To": DEST, "Text": "STOP"})
    assert answer.status_code == 403 and answer.json()["Code"] == "Forbidden.CrossSite"
    time.sleep(1)
    assert send(s.client(), "MKT").response_code == "OK"
    assert s.cli("optout", "list").stdout == ""


def test_the_cli_import_is_bounded_whatever_the_file_holds(make_server, tmp_path):
    """A device that never ends is refused past 256 MiB (it was read into memory until the machine ran out); a huge
    line is not parsed, and the error shows no terminal escapes and only the first five bad lines."""
    s = make_server(dict(FAST_SANDBOX, accounts=[{"name": "default"}]))
    endless = s.cli("optout", "import", "/dev/zero", check=False)
    assert endless.returncode != 0 and "longer than 256 MiB" in endless.stderr and "nothing was added" in endless.stderr
    bad = tmp_path / "bad.txt"
    bad.write_text("85291230001\n" + "\x1b[2J" + "9" * 5_000_000 + "\n" + "junk\n" * 200_000)
    refused = s.cli("optout", "import", str(bad), check=False)
    assert refused.returncode != 0 and "200001 lines of" in refused.stderr, refused.stderr
    assert "line 2: ?[2J9999" in refused.stderr and "\x1b" not in refused.stderr
    assert refused.stderr.count("line ") == 5
    assert s.cli("optout", "list").stdout == ""
