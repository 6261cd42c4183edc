"""Retention: the background purge and redaction, and `petrel purge`, seen through the official SDK."""
import time

import requests
from alibabacloud_dysmsapi20180501 import models as m

from conftest import FAST_SANDBOX, HK, wait_for


def query(client, message_id):
    body = client.query_message(m.QueryMessageRequest(message_id=message_id)).body.to_map()
    body.pop("RequestId", None)
    return body


def as_unknown(client, message_id):
    """What QueryMessage answers for an id that was never given out, spelled with `message_id`."""
    unknown = query(client, "123456789")
    assert unknown["ResponseCode"] == "INVALID_PARAMETERS"
    return {k: v.replace("123456789", message_id) for k, v in unknown.items()}


def send(client, text, **kw):
    return client.send_message_to_globe(m.SendMessageToGlobeRequest(to=HK, message=text, **kw)).body.message_id


def test_final_messages_are_redacted_then_purged_and_answer_as_unknown(make_server):
    config = dict(FAST_SANDBOX, retention={"messages": "6s", "every": "1s", "redactOnFinal": ["OTP"]})
    s = make_server(config)
    c = s.client()
    otp = send(c, "code 1234", type="OTP")
    notify = send(c, "your parcel is on its way")
    # OTP texts go once the message is final (within a round); other texts stay until the message goes.
    wait_for(lambda: (q := query(c, otp)).get("Status") == "1" and q.get("Message") == "", timeout=10)
    assert wait_for(lambda: (q := query(c, notify)).get("Status") == "1" and q)["Message"] == "your parcel is on its way"
    wait_for(lambda: query(c, otp) == as_unknown(c, otp) and query(c, notify) == as_unknown(c, notify), timeout=20)
    metrics = requests.get(s.url("/metrics"), timeout=5).text
    purged = [line for line in metrics.splitlines() if line.startswith("petrel_messages_purged_total")]
    assert purged and float(purged[0].split()[-1]) >= 2, metrics
    # New messages are still taken and answered after a purge.
    fresh = send(c, "after the purge")
    assert query(c, fresh)["Message"] == "after the purge"


def test_purge_command_while_the_server_runs(server):
    c = server.client()
    ids = [send(c, f"hello {i}") for i in range(3)]
    for i in ids:
        wait_for(lambda: query(c, i).get("Status") == "1")
    time.sleep(1.2)
    dry = server.cli("purge", "--before", "1s", "--dry-run").stdout
    assert dry.startswith("Would purge 3 messages, 0 parts, 0 events, 0 unsent receipts and 0 conversion reports of messages finished (or reported) before ")
    assert all(query(c, i).get("Status") == "1" for i in ids)
    done = server.cli("purge", "--before", "1s", "--account", "default").stdout
    assert done.startswith("Purged 3 messages, "), done
    assert all(query(c, i) == as_unknown(c, i) for i in ids)
    bad = server.cli("purge", "--before", "yesterday", check=False)
    assert bad.returncode != 0 and "--before must be ISO 8601" in bad.stderr
