"""Issue 30: the Receipts page's log of recent pushes is shared by the nodes of one PostgreSQL store. Two nodes: a
receipt pushed by whichever node and test receipts sent from node a's console show on node b's page with the name of
the node that pushed them; the receipt URL's query value never shows (nor is stored: user info is redacted the same
way, PushLogTests); the log keeps `receipts.pushLogEntries` entries per account."""
import json
import re
from html import unescape

from alibabacloud_dysmsapi20180501 import models as m

from conftest import FAST_SANDBOX, HK, wait_for
from receiver import Receiver
from test_console import sign_in
from test_shared_store import database, node, psql  # noqa: F401  (a fresh PostgreSQL database)


def pushes(session, server):
    """The push log's rows on the node's Receipts page: (time, node, what, url, items, attempt, answer)."""
    page = session.get(server.url("/console/receipts"), timeout=10).text
    section = page.split("Recent pushes (every node)</h2>", 1)[1].split("<h2>", 1)[0]
    return [tuple(unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<td>(.*?)</td>", tr))
            for tr in section.split("<tr>")[2:]], section


def test_two_nodes_share_the_push_log_redacted_and_bounded(tmp_path, database):
    receiver = Receiver(secret="shared-webhook-secret").start()
    url = receiver.url + "?token=s3cret-token"
    config = {**FAST_SANDBOX, "receipts": {"maxWaitMs": 50, "pollMs": 50, "pushLogEntries": 4},
              "accounts": [{"name": "default", "receiptUrl": url, "webhookSecret": "shared-webhook-secret"}]}
    a = node(tmp_path, "a", database, {**config, "nodeName": "node-a"})
    b = node(tmp_path, "b", database, {**config, "nodeName": "node-b"})
    try:
        # A real receipt, pushed by whichever node applied it: both pages list it under that node's name.
        r = a.client().send_message_to_globe(m.SendMessageToGlobeRequest(to=HK, message="hi")).body
        assert r.response_code == "OK", r
        wait_for(lambda: len(receiver.reports()) >= 1, timeout=20)
        sa, csrf_a = sign_in(a)
        sb, _ = sign_in(b)

        def listed(session, server):
            return pushes(session, server)[0]

        first = wait_for(lambda: (rows := listed(sb, b)) and rows, timeout=10)
        assert first[0][1] in ("node-a", "node-b") and first[0][2] == "receipt" and first[0][6] == "taken", first
        assert first[0][3] == receiver.url + "?token=***", first
        # The other node's page shows it once the pushing node has written its log (every 500 ms).
        wait_for(lambda: listed(sa, a) == first, timeout=10)
        # Test receipts from node a's console: node b's page shows them, named node-a, within a second.
        for _ in range(5):
            page = sa.post(a.url("/console/receipts/test"), data={"csrf": csrf_a}, timeout=10).text
            assert "was taken by" in unescape(page), page
        def four_tests():
            rows = listed(sb, b)
            return [r[1:3] for r in rows[:4]] == [("node-a", "test receipt")] * 4 and rows

        rows = wait_for(four_tests, timeout=10)
        # The bound: 4 entries for the account, on the page and in the store.
        assert len(rows) == 4 and listed(sa, a) == rows
        assert psql(database, "SELECT COUNT(*) FROM push_log WHERE account = 'default'") == [["4"]]
        # The query value is never shown in the log nor stored.
        _, section = pushes(sb, b)
        assert "s3cret-token" not in section and "token=***" in section
        assert psql(database, "SELECT COUNT(*) FROM push_log WHERE url LIKE '%s3cret%' OR problem LIKE '%s3cret%'") \
            == [["0"]]
        # Which node pushed is for operators (a node's default name holds its host and data directory): a key of
        # the account without petrel:Operate sees the pushes, not the nodes.
        policy = tmp_path / "receipts-only.json"
        policy.write_text('{"Version":"1","Statement":[{"Effect":"Allow","Action":["dysms:*",'
                          '"petrel:ManageReceipts"],"Resource":"*"}]}')
        key = json.loads(a.cli("keys", "create", "--name", "r", "--account", "default", "--policy", str(policy)).stdout)
        tenant, _ = sign_in(a, key["AccessKeyId"], key["AccessKeySecret"])
        rows, section = pushes(tenant, a)
        assert len(rows) == 4 and rows[0][1] == "test receipt", rows
        assert "Node" not in section and "node-a" not in section and "node-b" not in section
    finally:
        a.stop()
        b.stop()
        receiver.stop()
