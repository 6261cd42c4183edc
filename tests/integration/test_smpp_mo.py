"""Inbound messages (MO) to the customer's ESME as deliver_sm (issue 29), with `petrel smsc --mo-*` as the carrier
and smpplib as the ESME: GSM and long UCS-2 texts arrive whole, are kept while no receiver is bound, and survive a
kill -9 of Petrel before the ESME answered."""
import re
import socket
import time

import pytest
import smpplib.consts as C

from conftest import FAST_SANDBOX, wait_for
from peers import PetrelSMSC, carrier_config
from test_shared_store import database, node  # noqa: F401  (the fixture is used by name)
from test_smpp_server import bind_body, esme, pdu, read_pdu, smpp_port

PHONE = "85291230001"
DEST = "85260001234"
GSM = "Yes see you at 5 reply {n} ok"
UCS2 = "Ünïcødé 你好 reply {n}: " + "长消息 " * 50


@pytest.fixture
def carrier(tmp_path):
    peers = []

    def make(text, every=300):
        p = PetrelSMSC(tmp_path, "--mo-from", PHONE, "--mo-to", DEST, "--mo-text", text, "--mo-every", str(every))
        peers.append(p)
        return p

    yield make
    for p in peers:
        p.stop()


def petrel(make_server, peer):
    """Petrel with the carrier as its channel, an SMPP server, and an SMPP user of account default (whose inbound
    messages go to its ESMEs from now on); returns it and the carrier's message count when the user was added."""
    config = carrier_config(peer.port)
    config["smppServer"] = {"listen": "127.0.0.1:0"}
    s = make_server(config)
    s.cli("smpp-users", "add", "crm01", "--password", "pw123", "--account", "default")
    s.smpp_port = smpp_port(s)
    wait_for(lambda: peer.summary().get("mo_messages", 0) >= 1, timeout=30)
    return s, peer.summary().get("mo_messages", 0)


def stored_upto(peer, at_least):
    """A message count of the carrier at a moment Petrel had answered every part sent so far (so every message up
    to it is stored), once at least `at_least` were sent."""
    found = []

    def settled():
        s = peer.summary()
        if s.get("mo_messages", 0) >= at_least and s.get("mo_acked") == s.get("mo_parts"):
            found.append(s["mo_messages"])
            return True
        return False

    wait_for(settled, timeout=60, interval=0.05)
    return found[0]


def text_of(pdu_, parts):
    """The text of one deliver_sm (None while a long message's parts are still coming); checks its fields."""
    body = pdu_.short_message
    assert pdu_.esm_class & ~0x40 == C.SMPP_MSGMODE_DEFAULT, pdu_.esm_class
    assert pdu_.source_addr.decode() == PHONE and pdu_.destination_addr.decode() == DEST
    coding = pdu_.data_coding
    assert coding in (0, 8), coding
    if pdu_.esm_class & 0x40:
        head, body = body[:1 + body[0]], body[1 + body[0]:]
        assert head[1:3] == b"\x00\x03", head
        ref, total, seq = head[3], head[4], head[5]
        got = parts.setdefault(ref, {})
        got[seq] = (coding, body)
        if len(got) < total:
            return None
        del parts[ref]
        coding = got[1][0]
        assert all(c == coding for c, _ in got.values())
        body = b"".join(got[k][1] for k in sorted(got))
    # GSM 03.38 unpacked: the texts here are in its ASCII-compatible range.
    return body.decode("utf-16-be") if coding == 8 else body.decode("ascii")


def receive(c, want, template, timeout=90):
    """Reads deliver_sm until the texts of messages `want` (numbers) came; returns the numbers seen."""
    parts, seen = {}, set()
    pattern = re.compile("^" + re.escape(template).replace(re.escape("{n}"), r"(\d+)") + "$")

    def got(pdu):
        text = text_of(pdu, parts)
        if text is not None:
            match = pattern.match(text)
            assert match, text
            seen.add(int(match.group(1)))

    c.set_message_received_handler(got)
    deadline = time.time() + timeout
    while not set(want) <= seen and time.time() < deadline:
        c.read_once()
    assert set(want) <= seen, f"never came: {sorted(set(want) - seen)[:10]}"
    return seen


@pytest.mark.parametrize("template", [GSM, UCS2], ids=["gsm", "ucs2-long"])
def test_mo_reaches_a_bound_transceiver_whole(make_server, carrier, template):
    peer = carrier(template)
    s, first = petrel(make_server, peer)
    c = esme(s)
    last = stored_upto(peer, first + 3)
    receive(c, range(first + 1, last + 1), template)
    c.unbind()
    c.disconnect()


def test_mo_that_came_while_no_esme_was_bound_is_delivered_when_one_binds(make_server, carrier):
    peer = carrier(GSM)
    s, first = petrel(make_server, peer)
    last = stored_upto(peer, first + 5)
    time.sleep(1)
    rx = esme(s, mode="receiver")
    receive(rx, range(first + 1, last + 1), GSM)
    rx.unbind()
    rx.disconnect()


def test_mo_unanswered_when_petrel_is_killed_arrives_after_restart(make_server, carrier):
    peer = carrier(UCS2)
    s, first = petrel(make_server, peer)
    last = stored_upto(peer, first + 2)
    peer.stop()
    # An ESME that reads a deliver_sm and never answers it.
    raw = socket.create_connection(("127.0.0.1", s.smpp_port), timeout=10)
    raw.sendall(pdu(0x00000001, 1, bind_body("crm01", "pw123")))
    command, status, _, _ = read_pdu(raw)
    assert (command, status) == (0x80000001, 0)
    command, _, _, body = read_pdu(raw)
    assert command == 0x00000005 and b"\x05\x00\x03" in body, "a part of a long MO, unanswered"
    s.kill9()
    raw.close()
    s.start()
    s.smpp_port = smpp_port(s)
    # What the first ESME held comes again after its lease (30 s); the rest at once.
    rx = esme(s, mode="receiver")
    receive(rx, range(first + 1, last + 1), UCS2, timeout=90)
    rx.unbind()
    rx.disconnect()


def test_mo_taken_by_one_node_reaches_an_esme_bound_to_the_other(tmp_path, carrier, database):  # noqa: F811
    """On a shared PostgreSQL store the node that takes the carrier's MO (a, bound to the carrier) is not the one
    the customer's ESME is bound to (b, the SMPP server): the MO goes from a's transaction to b's bind."""
    peer = carrier(GSM)
    a = node(tmp_path, "a", database, carrier_config(peer.port))
    b = node(tmp_path, "b", database, dict(FAST_SANDBOX, smppServer={"listen": "127.0.0.1:0"}))
    try:
        b.cli("smpp-users", "add", "crm01", "--password", "pw123", "--account", "default")
        b.smpp_port = smpp_port(b)
        wait_for(lambda: peer.summary().get("mo_messages", 0) >= 1, timeout=30)
        first = stored_upto(peer, peer.summary().get("mo_messages", 0) + 1)
        rx = esme(b, mode="receiver")
        last = stored_upto(peer, first + 3)
        receive(rx, range(first + 1, last + 1), GSM)
        rx.unbind()
        rx.disconnect()
    finally:
        a.stop()
        b.stop()
