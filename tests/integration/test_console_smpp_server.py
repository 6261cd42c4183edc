"""The SMPP server in the console and /metrics (issue 29): per account, binds by mode, messages of the last minute,
receipts and inbound messages pending, on the Channels page (axe scan wide, phone-sized and dark); an account's
own key sees its own row only; petrel_smpp_server_receipts_pending and _mo_pending follow the outboxes."""
import re
import time

import requests
import smpplib.consts as C

from conftest import FAST_SANDBOX, HK, wait_for
from test_console import browser  # noqa: F401  (the Chromium fixture)
from test_console import sign_in
from test_console_a11y import browser_sign_in, serious
from test_console_security import key_with
from test_smpp_receipts import note, submit_parts
from test_smpp_server import esme, message, smpp_port, submit_and_wait


def pending_metric(server, account, name="receipts_pending"):
    text = requests.get(server.url("/metrics"), timeout=5).text
    found = re.search(r'^petrel_smpp_server_%s\{account="%s"\} (\d+)' % (name, re.escape(account)), text, re.M)
    return int(found.group(1)) if found else None


def smpp_row(html, account):
    """The cells of `account`'s row in the SMPP server table, as text."""
    section = html.split('id="smpp-server"', 1)[1]
    for row in re.findall(r"<tr>(.*?)</tr>", section, re.S):
        cells = [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td>(.*?)</td>", row, re.S)]
        if cells and cells[0] == account:
            return cells[1:]
    return None


def test_binds_rates_and_pending_receipts_in_the_console_and_metrics(make_server, browser, tmp_path):
    from selenium.webdriver.common.by import By
    config = dict(FAST_SANDBOX, smppServer={"listen": "127.0.0.1:0", "maxBinds": 7})
    s = make_server(config)
    s.smpp_port = smpp_port(s)
    other = key_with(s, tmp_path, "other", ["dysms:QueryMessage", "petrel:ViewChannels"])
    s.cli("smpp-users", "add", "crm01", "--password", "pw123", "--account", "default")
    s.cli("smpp-users", "add", "crm02", "--password", "pw456", "--account", "other")
    # No receiver of "default" is bound: its receipts wait in the outbox.
    tx = esme(s, "crm01", "pw123", mode="transmitter")
    ids = submit_parts(tx, [message(f"console {i}", to=HK)[0] for i in range(5)])
    assert submit_and_wait(tx, message("no such number", to="123"))[0][0] == C.SMPP_ESME_RINVDSTADR
    # Two replies to "default" (the sandbox phone's path): kept for its ESMEs too, with no receiver bound.
    for text in ("reply one", "reply two"):
        answer = requests.post(s.url("/sandbox/inbound"), auth=(s.ak, s.sk), timeout=10,
                               json={"From": "85291230001", "To": "85260001234", "Text": text})
        assert answer.status_code == 200, answer.text
    trx = esme(s, "crm02", "pw456", mode="transceiver")
    rx = esme(s, "crm02", "pw456", mode="receiver")
    wait_for(lambda: pending_metric(s, "default") == 5, timeout=30)
    wait_for(lambda: pending_metric(s, "default", "mo_pending") == 2, timeout=30)

    b = browser
    browser_sign_in(s, b)
    for size, dark in [((1280, 900), False), ((390, 844), False), ((1280, 900), True)]:
        b.set_window_size(*size)
        b.execute_cdp_cmd("Emulation.setEmulatedMedia",
                          {"features": [{"name": "prefers-color-scheme", "value": "dark" if dark else "light"}]})
        b.get(s.url("/console/channels"))
        heading = b.find_element(By.ID, "smpp-server")
        assert heading.text == "SMPP server"
        assert f"127.0.0.1:{s.smpp_port}" in b.page_source and "(TLS)" not in b.page_source
        assert b.find_element(By.ID, "smpp-binds").text == "3"
        assert b.find_element(By.ID, "smpp-max-binds").text == "7"
        # Transmitter / receiver / transceiver binds, accepted / refused in the last minute, receipts pending /
        # awaiting, inbound pending (the minute's figures checked once: the scans take a while).
        row = smpp_row(b.page_source, "default")
        assert row[:3] == ["1", "0", "0"] and row[5:] == ["5", "0", "2"], row
        if not dark and size[0] == 1280:
            assert row[3:5] == ["5", "1"], row
        assert smpp_row(b.page_source, "other") == ["0", "1", "1", "0", "0", "0", "0", "0"]
        assert serious(b) == [], (size, dark)
        if size[0] == 390:
            wide = b.execute_script(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert wide <= 0, f"the Channels page scrolls sideways by {wide}px at 390px"
    b.set_window_size(1280, 900)

    # The account's own key: its row only, not the node's bind limit.
    session, _ = sign_in(s, *other)
    page = session.get(s.url("/console/channels"), timeout=10).text
    assert smpp_row(page, "other") == ["0", "1", "1", "0", "0", "0", "0", "0"]
    assert smpp_row(page, "default") is None and 'id="smpp-max-binds"' not in page

    # A receiver of "default" binds and takes every receipt and both replies: nothing pending, on the page (it
    # refreshes itself) and in /metrics.
    tx.unbind()
    tx.disconnect()
    r = esme(s, "crm01", "pw123", mode="receiver")
    receipts, replies = {}, []
    r.set_message_received_handler(
        lambda pdu: note(receipts, pdu) if pdu.esm_class & 0x04 else replies.append(pdu.short_message.decode()))
    deadline = time.time() + 60
    while not (set(ids) <= set(receipts) and len(replies) == 2) and time.time() < deadline:
        r.read_once()
    assert set(ids) <= set(receipts) and sorted(replies) == ["reply one", "reply two"], (receipts, replies)
    wait_for(lambda: pending_metric(s, "default") == 0, timeout=30)
    wait_for(lambda: pending_metric(s, "default", "mo_pending") == 0, timeout=30)
    b.get(s.url("/console/channels"))
    wait_for(lambda: (lambda row: row[:3] == ["0", "1", "0"] and row[5:] == ["0", "0", "0"])(
        smpp_row(b.page_source, "default")), timeout=15)
    for c in (r, trx, rx):
        c.unbind()
        c.disconnect()
    wait_for(lambda: "<span id=\"smpp-binds\">0</span>" in
             sign_in(s)[0].get(s.url("/console/fragment/channels"), timeout=10).text, timeout=10)


def test_no_smpp_server_no_section(server):
    session, _ = sign_in(server)
    page = session.get(server.url("/console/channels"), timeout=10).text
    assert 'id="smpp-server"' not in page
    assert "petrel_smpp_server_receipts_pending" not in requests.get(server.url("/metrics"), timeout=5).text
