"""A message's whole history from a shell: `petrel messages show` and `petrel messages list`."""
import json

from alibabacloud_dysmsapi20180501 import models as m

from conftest import HK, HK_FAIL, wait_for
from receiver import Receiver
from test_receipts import SECRET, config


def show(server, *args):
    return json.loads(server.cli("messages", "show", *args, "--json").stdout)


def test_messages_show_lists_every_step_through_the_receipt_push(make_server):
    r = Receiver(secret=SECRET).start()
    r.script = ["500"]                      # the first push is refused: a retry, then the push
    try:
        s = make_server(config(r.url))
        c = s.client()
        mid = c.send_message_to_globe(m.SendMessageToGlobeRequest(to=HK, message="hello", task_id="H-1")).body.message_id
        failed = c.send_message_to_globe(m.SendMessageToGlobeRequest(to=HK_FAIL, message="x")).body.message_id
        wait_for(lambda: {x["MessageId"] for x in r.reports()} >= {mid, failed}, timeout=20)
        # The pushed row leaves the outbox a moment after the receiver took it.
        shown = wait_for(lambda: (lambda t: t if t["Timeline"][-1]["Event"] == "receipt-pushed" else None)(show(s, mid)))
        events = [e["Event"] for e in shown["Timeline"]]
        assert events == ["accepted", "submitted", "delivered", "receipt-retry", "receipt-pushed"], shown
        assert shown["Status"] == "delivered" and shown["Waiting"] is None and shown["To"] == HK
        steps = {e["Event"]: e for e in shown["Timeline"]}
        assert steps["submitted"]["Detail"].startswith("to channel sandbox")
        assert "HTTP 500" in steps["receipt-retry"]["Detail"] and "Until" in steps["receipt-retry"]
        assert steps["receipt-pushed"]["Detail"] == "on attempt 2"
        times = [e["AtMs"] for e in shown["Timeline"]]
        assert times == sorted(times)
        # A failure carries the receipt's code.
        bad = wait_for(lambda: (lambda t: t if t["Timeline"][-1]["Event"] == "receipt-pushed" else None)(show(s, failed)))
        assert [e["Event"] for e in bad["Timeline"]][:3] == ["accepted", "submitted", "failed"]
        assert bad["Timeline"][2]["Detail"] != ""
        # The same as text, for a person.
        text = s.cli("messages", "show", mid, "--account", "default").stdout
        assert f"Message {mid}" in text and "receipt-pushed" in text
        # The console's filters.
        listed = json.loads(s.cli("messages", "list", "--task-id", "H-1", "--json").stdout)["Messages"]
        assert [x["MessageId"] for x in listed] == [mid]
        listed = json.loads(s.cli("messages", "list", "--status", "failed", "--json").stdout)["Messages"]
        assert [x["MessageId"] for x in listed] == [failed]
        assert json.loads(s.cli("messages", "list", "--to", "+" + HK, "--limit", "5", "--json").stdout)["Messages"][0]["MessageId"] == mid
        # Bad input gets a sentence, not a trap.
        for args, words in [
            (("messages", "show", "123456789"), "no message 123456789"),
            (("messages", "show", "abc"), "must be digits"),
            (("messages", "show", mid, "--account", "nobody"), "no account nobody"),
            (("messages", "list", "--status", "lost"), "--status must be one of"),
            (("messages", "list", "--limit", "0"), "--limit must be"),
            (("messages", "list", "--since", "yesterday"), "--since must be"),
        ]:
            out = s.cli(*args, check=False)
            assert out.returncode != 0 and words in out.stderr, (args, out.stdout, out.stderr)
    finally:
        r.stop()
