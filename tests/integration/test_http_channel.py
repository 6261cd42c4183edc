"""`type: http` channels against a fake provider (http_provider.py): sent with the provider's id, refused with its
code, retried on 503, failed over to the next channel on a routing error; a hostile provider harms nothing."""
import os
import sqlite3
import time

import pytest
import requests
from alibabacloud_dysmsapi20180501 import models as m

from conftest import wait_for
from http_provider import FakeProvider, http_channel

SENT, DELIVERED, FAILED = 2, 3, 4


@pytest.fixture
def provider():
    made = []

    def make(**kw):
        p = FakeProvider(**kw)
        made.append(p)
        return p

    yield make
    for p in made:
        p.stop()


def row(server, to):
    db = sqlite3.connect(f"file:{os.path.join(server.data_dir, 'petrel.sqlite')}?mode=ro", uri=True, timeout=10)
    try:
        return db.execute(
            "SELECT status, error_code, error_desc, channel, carrier_id, id FROM messages WHERE recipient = ?", (to,)
        ).fetchone()
    finally:
        db.close()


def events(server, message_id):
    db = sqlite3.connect(f"file:{os.path.join(server.data_dir, 'petrel.sqlite')}?mode=ro", uri=True, timeout=10)
    try:
        return [d for (d,) in db.execute("SELECT detail FROM message_events WHERE message_id = ?", (message_id,))]
    finally:
        db.close()


def send(client, to, text="hello"):
    body = client.send_message_to_globe(m.SendMessageToGlobeRequest(to=to, message=text)).body
    assert body.response_code == "OK", body.to_map()
    return body.message_id


def test_sent_refused_retried_and_rerouted(provider, make_server):
    p = provider()
    s = make_server(http_channel(p))
    c = s.client()
    ok, refused, busy, unroutable = "85291230123", "85291230400", "85291230503", "85291230404"
    text = 'Say "hi" & {bye}\nline two, 中文'
    send(c, ok, text)
    for to in (refused, busy, unroutable):
        send(c, to)

    assert wait_for(lambda: (row(s, ok) or [None])[0] == SENT, timeout=10)
    status, _, _, channel, carrier_id, mid = row(s, ok)
    assert channel == "acme" and carrier_id.startswith("p")
    (request,) = p.sent_to(ok)
    assert request["text"] == text and request["ref"] == str(mid)
    headers = next(h for _, h, b in p.requests if b is request)
    assert headers["Authorization"] == "Bearer test-token"

    assert wait_for(lambda: (row(s, refused) or [None])[0] == FAILED, timeout=10)
    assert row(s, refused)[1] == "INVALID_NUMBER"
    assert "HTTP 400" in row(s, refused)[2]

    # Two 503s (Retry-After: 1), then accepted on the third try.
    assert wait_for(lambda: (row(s, busy) or [None])[0] == SENT, timeout=15)
    assert len(p.sent_to(busy)) == 3
    assert any("HTTP 503" in e for e in events(s, row(s, busy)[5]))

    # The provider cannot route it: the route's next channel (the sandbox) delivers it.
    assert wait_for(lambda: (row(s, unroutable) or [None])[0] == DELIVERED, timeout=10)
    assert row(s, unroutable)[3] == "sandbox"
    assert len(p.sent_to(unroutable)) == 1

    metrics = wait_for(lambda: (t := requests.get(s.url("/metrics"), timeout=5).text)
                       and 'petrel_http_channel_available{channel="acme"} 1' in t and t, timeout=10)
    assert 'petrel_http_channel_requests_total{channel="acme",status="503"} 2' in metrics


def test_a_hostile_provider_harms_nothing(provider, make_server):
    p = provider(slow_seconds=4)
    config = http_channel(p)
    config["routes"] = [{"channels": ["acme"]}]
    s = make_server(config)
    c = s.client()
    huge, slow, garbage, drip = "85291230900", "85291230901", "85291230902", "85291230903"
    started = time.time()
    for to in (huge, slow, garbage, drip):
        send(c, to)

    # 50 MB announced: 4 KiB read, the answer judged on that (no id in it), the connection dropped.
    assert wait_for(lambda: (row(s, huge) or [None])[0] == FAILED, timeout=10)
    assert row(s, huge)[1] == "NO_MESSAGE_ID"
    assert wait_for(lambda: (row(s, garbage) or [None])[0] == FAILED, timeout=10)
    assert row(s, garbage)[1] == "NO_MESSAGE_ID"
    assert time.time() - started < 8

    # Slower than the 2 s timeout: retried, never counted sent or failed meanwhile.
    mid = row(s, slow)[5]
    assert wait_for(lambda: any("no answer from the provider within 2 s" in e for e in events(s, mid)), timeout=10)
    assert row(s, slow)[0] not in (SENT, FAILED)
    # A body dripped a byte at a time (each read within the timeout) still ends at the 2 s timeout.
    mid = row(s, drip)[5]
    assert wait_for(lambda: any("no answer from the provider within 2 s" in e for e in events(s, mid)), timeout=10)

    # The server still serves, and a good message still goes out once the channel is back.
    ok = "85291230124"
    send(c, ok)
    assert wait_for(lambda: (row(s, ok) or [None])[0] == SENT, timeout=15)
    assert requests.get(s.url("/healthz"), timeout=5).status_code == 200


def test_config_errors_name_the_key(tmp_path):
    import subprocess
    from conftest import PETREL
    cases = [
        ({"json": '{"to": "${phone}"}'}, "channels[0].json: ${phone} is not a message field"),
        ({"json": '{"text": ${text}}'}, "channels[0].json is not JSON once filled in"),
        ({"url": "ftp://x/"}, "channels[0].url must be an http:// or https:// URL"),
        ({"answer": {"messageId": "$.a[x]"}}, "channels[0].answer.messageId: $.a[x] is not a JSON path"),
        ({"answer": {"retry": ["5xx"]}}, "channels[0].answer.retry must hold HTTP statuses"),
        ({"headers": {"Bad Name": "x"}}, "channels[0].headers.Bad Name is not a header name"),
    ]
    for extra, message in cases:
        channel = {"id": "acme", "type": "http", "url": "http://127.0.0.1:9/send"}
        channel.update(extra)
        path = tmp_path / "petrel.yaml"
        import json
        path.write_text(json.dumps({"channels": [channel]}))
        r = subprocess.run([PETREL, "config", "check", str(path)], capture_output=True, text=True, timeout=30)
        assert r.returncode != 0 and message in r.stdout + r.stderr, (extra, r.stdout + r.stderr)


def test_receipts_come_back_through_the_callback(provider, make_server):
    from http_provider import RECEIPT_SECRET
    p = provider()
    s = make_server(http_channel(p))
    c = s.client()
    good, bad = "85291230125", "85291230126"
    good_id, bad_id = send(c, good), send(c, bad)
    assert wait_for(lambda: (row(s, good) or [None])[0] == SENT and (row(s, bad) or [None])[0] == SENT, timeout=10)
    with p.lock:
        ids = [(b["to"], i + 1) for i, (_, _, b) in enumerate(p.requests)]
    pid = {to: f"P{n}" for to, n in ids}
    url = s.url("/carriers/acme/receipts")

    # Wrong or missing secret: refused, nothing changes.
    r = requests.post(url, json={"id": pid[good], "status": "DELIVRD"}, timeout=5)
    assert r.status_code == 401
    r = requests.post(url, json={"id": pid[good], "status": "DELIVRD"}, headers={"X-Petrel-Secret": "guess"}, timeout=5)
    assert r.status_code == 401
    # Another channel's name, a body too large, a body that is not JSON.
    assert requests.post(s.url("/carriers/nope/receipts"), json={}, timeout=5).status_code == 404
    big = requests.post(url + "?secret=" + RECEIPT_SECRET, data=b"[" + b" " * (2 << 20) + b"]",
                        headers={"Content-Type": "application/json"}, timeout=10)
    assert big.status_code == 413
    garbage = requests.post(url, data=b"{nope", headers={"X-Petrel-Secret": RECEIPT_SECRET}, timeout=5)
    assert garbage.status_code == 400
    # Hostile bodies within the size bound: too many receipts in one, JSON nested 200,000 deep.
    secret = {"X-Petrel-Secret": RECEIPT_SECRET}
    many = requests.post(url, json=[{"id": pid[good], "status": "DELIVRD"}] * 1001, headers=secret, timeout=5)
    assert many.status_code == 413 and "more than 1000 receipts" in many.json()["msg"], many.text
    deep = requests.post(url, data=b"[" * 200_000 + b"]" * 200_000, headers=secret, timeout=10)
    assert deep.status_code == 400, deep.text
    time.sleep(0.5)
    assert row(s, good)[0] == SENT

    # An array of receipts (a not-final state and an unknown id among them), in the query's secret.
    batch = [
        {"id": pid[good], "status": "ENROUTE"},
        {"id": pid[good], "status": "DELIVRD"},
        {"id": "P-unknown", "status": "DELIVRD"},
    ]
    r = requests.post(url + "?secret=" + RECEIPT_SECRET, json=batch, timeout=5)
    assert r.status_code == 200 and r.json() == {"code": 0, "msg": "OK"}
    # A form, in the header's secret.
    r = requests.post(url, data={"id": pid[bad], "status": "UNDELIV", "err": "ABSENT"},
                      headers={"X-Petrel-Secret": RECEIPT_SECRET}, timeout=5)
    assert r.status_code == 200
    q = lambda mid: c.query_message(m.QueryMessageRequest(message_id=mid)).body
    assert wait_for(lambda: q(good_id).status == "1", timeout=10)
    assert wait_for(lambda: row(s, bad)[0] == FAILED, timeout=10)
    assert row(s, bad)[1] == "ABSENT"
    assert q(bad_id).status == "2"


def test_petrel_to_petrel_chain_with_receipts(make_server):
    """The front Petrel sends through a `preset: alibaba` channel to the back Petrel (sandbox carrier), V3-signed
    with the back's key; the back pushes its receipts to the front's /carriers/upstream/receipts."""
    import json
    from conftest import HK, HK_FAIL, SG
    back = make_server()
    secret = "chain-receipt-secret-0123"
    front = make_server({
        "dispatcher": {"pollMs": 50},
        "channels": [{
            "id": "upstream", "type": "http", "preset": "alibaba", "endpoint": f"http://{back.endpoint}",
            "accessKeyId": back.ak, "accessKeySecret": back.sk, "receipts": {"secret": secret},
        }],
        "routes": [{"channels": ["upstream"]}],
    })
    back.cli("accounts", "set-receipt-url", "default", front.url(f"/carriers/upstream/receipts?secret={secret}"),
             "--secret", "webhook-secret-0123456789")
    time.sleep(2.5)                                            # the back reads account settings every 2 s
    c = front.client()
    text = 'Code 4821, "valid" 5\' (~*!) Ünïcødé 中文 +&=%'
    single = c.send_message_to_globe(m.SendMessageToGlobeRequest(to=HK, message=text, type="OTP")).body
    assert single.response_code == "OK"
    failing = c.send_message_to_globe(m.SendMessageToGlobeRequest(to=HK_FAIL, message="will fail")).body
    batch = c.batch_send_message_to_globe(m.BatchSendMessageToGlobeRequest(
        to=json.dumps([SG, "85291230127"]), message=json.dumps(["one", "two"]))).body
    assert batch.response_code == "OK"
    ids = [single.message_id] + json.loads(batch.message_id_list)

    q = lambda mid: c.query_message(m.QueryMessageRequest(message_id=mid)).body
    for mid in ids:
        assert wait_for(lambda: q(mid).status == "1", timeout=20), q(mid).to_map()
    assert wait_for(lambda: q(failing.message_id).status == "2", timeout=20)
    assert q(failing.message_id).error_code == "UNDELIV"

    # The back received the text as sent, from the front's signed call.
    inbox = requests.get(back.url("/sandbox/messages"), auth=(back.ak, back.sk), timeout=5).json()
    assert text in [x["Message"] for x in inbox["Messages"]]


def test_a_wrong_key_fails_at_the_back_with_its_code(make_server):
    back = make_server()
    front = make_server({
        "dispatcher": {"pollMs": 50},
        "channels": [{
            "id": "upstream", "type": "http", "preset": "alibaba", "endpoint": f"http://{back.endpoint}",
            "accessKeyId": back.ak, "accessKeySecret": "not-the-secret-0123456",
        }],
        "routes": [{"channels": ["upstream"]}],
    })
    c = front.client()
    mid = send(c, "85291230128")
    assert wait_for(lambda: (row(front, "85291230128") or [None])[0] == FAILED, timeout=10)
    assert row(front, "85291230128")[1] == "SignatureDoesNotMatch"
