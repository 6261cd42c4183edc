"""Delivery receipts pushed to a customer's HTTP receiver: format, signature, retries, durability, replay."""
import json
import sqlite3
import time

import pytest
from alibabacloud_dysmsapi20180501 import models as m

from conftest import HK, HK_EXPIRE, HK_FAIL, SG, wait_for
from receiver import Receiver

SECRET = "receipt-secret-0123456789"


def config(receiver_url=None, **receipts):
    settings = {"maxWaitMs": 100, "pollMs": 50, "retryBaseMs": 100, "retryMaxMs": 400, "timeoutMs": 1000}
    settings.update(receipts)
    cfg = {"sandbox": {"deliveryDelayMs": 100}, "dispatcher": {"pollMs": 50}, "receipts": settings}
    if receiver_url:
        cfg["accounts"] = [{"name": "default", "receiptUrl": receiver_url, "webhookSecret": SECRET}]
    return cfg


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


def batch(client, numbers, task_id=None):
    body = client.batch_send_message_to_globe(m.BatchSendMessageToGlobeRequest(
        to=json.dumps(numbers), message=json.dumps([f"hi {i}" for i in range(len(numbers))]), task_id=task_id)).body
    assert body.response_code == "OK", body.to_map()
    return json.loads(body.message_id_list)


def numbers(n, base=91000000):
    out, i = [], 0
    while len(out) < n:
        s = f"852{base + i}"
        i += 1
        if s[-3:] not in ("555", "666", "777"):
            out.append(s)
    return out


def outbox(server):
    db = sqlite3.connect(f"file:{server.data_dir}/petrel.sqlite?mode=ro", uri=True, timeout=10)
    try:
        return dict(db.execute("SELECT state, COUNT(*) FROM receipt_outbox GROUP BY state").fetchall())
    finally:
        db.close()


def test_receipts_are_signed_in_alibabas_format_and_agree_with_query_message(make_server, receiver):
    r = receiver().start()
    s = make_server(config(r.url))
    c = s.client()
    sent = {}
    for to in (HK, HK_FAIL, HK_EXPIRE):
        sent[to] = c.send_message_to_globe(m.SendMessageToGlobeRequest(to=to, message="x" * 200, task_id="T-7")).body.message_id
    wait_for(lambda: len(r.by_message()) == 3, timeout=20)
    r.check_signatures()
    got = r.by_message()
    assert {got[sent[HK]]["Status"], got[sent[HK_FAIL]]["Status"], got[sent[HK_EXPIRE]]["Status"]} == {"1", "2", "6"}
    for to, mid in sent.items():
        report = got[mid]
        assert set(report) == {"To", "Status", "MessageId", "TaskId", "SmsSize", "SendDate", "ReceiveDate", "ErrorCode",
                               "ErrorDescription", "ReportId"}
        assert all(isinstance(v, str) for v in report.values())
        assert report["To"] == to and report["TaskId"] == "T-7" and report["SmsSize"] == "2"
        q = c.query_message(m.QueryMessageRequest(message_id=mid)).body
        assert (q.send_date, q.receive_date, q.error_code, q.error_description) == (
            report["SendDate"], report["ReceiveDate"], report["ErrorCode"], report["ErrorDescription"])
        assert q.status == ("1" if report["Status"] == "1" else "2")
    assert got[sent[HK_FAIL]]["ErrorCode"] != "" and got[sent[HK]]["ErrorCode"] == "DELIVERED"
    # Each message is reported once: no report of an earlier state ever follows a final one.
    assert len(r.reports()) == 3
    wait_for(lambda: outbox(s) == {}, timeout=5)


def test_failures_wrong_bodies_and_slow_answers_are_retried_until_taken(make_server, receiver):
    r = receiver().start()
    r.script = ["500", "500", "wrong-body", ("slow", 2.0), "500"]
    s = make_server(config(r.url, batchSize=20))
    ids = batch(s.client(), numbers(50))
    wait_for(lambda: set(r.by_message()) == set(ids), timeout=40)
    r.check_signatures()
    attempts = len(r.posts)
    assert attempts >= 8                                       # at least 3 batches plus the 5 refused attempts
    assert all(len(reports) <= 20 for (_, reports, _, _) in r.posts)
    # A receiver that timed out may have had a batch twice: the ReportId tells the copies apart from new reports.
    per_message = {}
    for report in r.reports():
        per_message.setdefault(report["MessageId"], set()).add(report["ReportId"])
    assert all(len(ids_) == 1 for ids_ in per_message.values())
    wait_for(lambda: outbox(s) == {}, timeout=5)


def test_a_receiver_down_across_a_kill9_gets_every_receipt_later(make_server, receiver, tmp_path):
    r = receiver()                                             # not started: connections are refused
    s = make_server(config(r.url))
    ids = batch(s.client(), numbers(30, 92200000))
    wait_for(lambda: outbox(s).get(0, 0) == 30, timeout=20)   # delivered; the receipts wait in the outbox
    s.kill9()
    r.start()
    s.start()
    wait_for(lambda: set(r.by_message()) == set(ids), timeout=30)
    assert all(rep["Status"] == "1" for rep in r.reports())


def test_receipt_url_set_from_the_cli_while_running_and_replay(make_server, receiver):
    r = receiver().start()
    s = make_server(config())
    c = s.client()
    before = c.send_message_to_globe(m.SendMessageToGlobeRequest(to=HK, message="before")).body.message_id
    wait_for(lambda: c.query_message(m.QueryMessageRequest(message_id=before)).body.status == "1", timeout=10)
    out = json.loads(s.cli("accounts", "set-receipt-url", "default", r.url, "--secret", SECRET).stdout)
    assert out["ReceiptUrl"] == r.url and out["WebhookSecret"] == SECRET
    time.sleep(2.5)                                            # the server reads account settings every 2 s
    after = c.send_message_to_globe(m.SendMessageToGlobeRequest(to=SG, message="after")).body.message_id
    wait_for(lambda: after in r.by_message(), timeout=10)
    assert before not in r.by_message()                       # finished before the URL existed: not pushed
    assert json.loads(s.cli("receipts", "replay", "--message-id", before).stdout) == {"Replayed": 1}
    wait_for(lambda: before in r.by_message(), timeout=10)
    r.check_signatures()
    listed = json.loads(s.cli("accounts", "list").stdout)
    assert listed["Accounts"] == [{"Account": "default", "ReceiptUrl": r.url, "MoUrl": ""}] and SECRET not in s.cli("accounts", "list").stdout


def test_receipts_are_parked_after_max_attempts_and_retried_on_demand(make_server, receiver):
    r = receiver().start()
    r.script = ["500"] * 100
    s = make_server(config(r.url, maxAttempts=3))
    mid = s.client().send_message_to_globe(m.SendMessageToGlobeRequest(to=HK, message="parked")).body.message_id
    wait_for(lambda: outbox(s).get(1, 0) == 1, timeout=20)
    parked = [json.loads(line) for line in s.cli("receipts", "parked").stdout.splitlines()]
    assert [p["MessageId"] for p in parked] == [mid] and parked[0]["Attempts"] == 3 and "500" in parked[0]["LastError"]
    assert len(r.posts) == 3
    r.script = []
    assert json.loads(s.cli("receipts", "retry").stdout) == {"Retried": 1}
    wait_for(lambda: mid in r.by_message(), timeout=10)
    wait_for(lambda: outbox(s) == {}, timeout=5)


def test_each_account_gets_only_its_own_receipts_and_secrets_stay_out_of_logs(make_server, receiver):
    mine, theirs = receiver().start(), receiver().start()
    cfg = config(mine.url)
    cfg["logLevel"] = "trace"
    cfg["accounts"].append({"name": "other", "receiptUrl": theirs.url, "webhookSecret": SECRET})
    s = make_server(cfg)
    created = json.loads(s.cli("keys", "create", "--name", "o", "--account", "other").stdout)
    other = s.client(created["AccessKeyId"], created["AccessKeySecret"])
    a = s.client().send_message_to_globe(m.SendMessageToGlobeRequest(to=HK, message="a")).body.message_id
    b = other.send_message_to_globe(m.SendMessageToGlobeRequest(to=SG, message="b")).body.message_id
    wait_for(lambda: a in mine.by_message() and b in theirs.by_message(), timeout=15)
    time.sleep(0.5)
    assert set(mine.by_message()) == {a} and set(theirs.by_message()) == {b}
    # Another account's template cannot be used.
    s.cli("templates", "add", "MINE", "--text", "code ${c}", "--account", "default")
    body = other.send_message_with_template(m.SendMessageWithTemplateRequest(
        to=HK, template_code="MINE", template_param=json.dumps({"c": "1"}), from_="Petrel")).body
    assert body.response_code == "SMS_CONTENT_CODE_ILLEGAL"
    s.stop()
    log = "".join(s.output)
    assert SECRET not in log and created["AccessKeySecret"] not in log and s.sk not in log
