"""Receipts back to the customer's ESME as deliver_sm (issue 29, step 3), with smpplib as the ESME: every
acknowledged id gets a receipt carrying it, kept while no receiver is bound and across a kill -9."""
import re
import time

import smpplib.consts as C

from conftest import HK, HK_FAIL
from test_smpp_server import esme, message, query, smpp, smpp_port  # noqa: F401 (smpp is a fixture)

TEXTS = ["receipt please", "long text " * 30, "Ünïcødé 你好", "长消息 " * 50]
RECEIPT = re.compile(r"^id:(\d+) sub:001 dlvrd:00[01] submit date:\d{10} done date:\d{10} stat:(\w+) err:\d{3} text:")


def submit_all(c, count, window=80):
    """Submits `count` messages (cycling TEXTS: short, long UDH, UCS-2, long UCS-2), never more than `window`
    parts unanswered; returns the message ids in order, and the receipts that came meanwhile."""
    answers, receipts, ids = {}, {}, []
    c.set_message_sent_handler(lambda pdu: answers.__setitem__(pdu.sequence, (pdu.status, pdu.message_id)))
    c.set_message_received_handler(lambda pdu: note(receipts, pdu))
    pending = []
    for i in range(count):
        sequences = [c.send_message(**p).sequence for p in message(TEXTS[i % len(TEXTS)], to=HK)]
        pending.append(sequences)
        while sum(len(p) for p in pending) - sum(s in answers for p in pending for s in p) > window:
            c.read_once()
        while pending and all(s in answers for s in pending[0]):
            got = {answers.pop(s) for s in pending.pop(0)}
            assert len(got) == 1 and next(iter(got))[0] == 0, got
            ids.append(next(iter(got))[1].decode())
    deadline = time.time() + 60
    while pending and time.time() < deadline:
        c.read_once()
        while pending and all(s in answers for s in pending[0]):
            got = {answers.pop(s) for s in pending.pop(0)}
            assert len(got) == 1 and next(iter(got))[0] == 0, got
            ids.append(next(iter(got))[1].decode())
    assert not pending
    return ids, receipts


def submit_parts(c, parts):
    """Submits single-part messages one by one; returns their ids."""
    ids = []
    for p in parts:
        answers = {}
        c.set_message_sent_handler(lambda pdu: answers.__setitem__(pdu.sequence, pdu.message_id))
        seq = c.send_message(**p).sequence
        while seq not in answers:
            c.read_once()
        ids.append(answers[seq].decode())
    return ids


def note(receipts, pdu):
    """Checks one deliver_sm is a well-formed receipt and keeps it by its receipted_message_id."""
    assert pdu.esm_class == C.SMPP_MSGMODE_DEFAULT | 0x04, pdu.esm_class
    rid = pdu.receipted_message_id
    rid = rid.decode() if isinstance(rid, bytes) else str(rid)
    text = pdu.short_message.decode()
    match = RECEIPT.match(text)
    assert match and match.group(1) == rid, text
    states = {"DELIVRD": 2, "EXPIRED": 3, "UNDELIV": 5}
    assert int(pdu.message_state) == states[match.group(2)], (text, pdu.message_state)
    receipts[rid] = match.group(2)


def receive(c, want, receipts=None, timeout=120):
    """Reads deliver_sm until every id in `want` has its receipt; returns them all."""
    receipts = {} if receipts is None else receipts
    c.set_message_received_handler(lambda pdu: note(receipts, pdu))
    deadline = time.time() + timeout
    while not set(want) <= set(receipts) and time.time() < deadline:
        c.read_once()
    missing = set(want) - set(receipts)
    assert not missing, f"{len(missing)} receipts never came, e.g. {sorted(missing)[:5]}"
    return receipts


def test_two_thousand_submissions_each_get_a_receipt_with_their_id(smpp):
    s = smpp()
    c = esme(s)
    ids, receipts = submit_all(c, 2000)
    assert len(set(ids)) == 2000
    receive(c, ids, receipts)
    assert set(receipts.values()) <= {"DELIVRD", "UNDELIV", "EXPIRED"}
    assert list(receipts.values()).count("DELIVRD") >= 1900, "the sandbox delivers nearly everything"
    c.unbind()
    c.disconnect()


def test_a_receiver_bound_after_delivery_gets_every_receipt(smpp):
    s = smpp()
    tx = esme(s, mode="transmitter")
    ids, receipts = submit_all(tx, 60)
    assert not receipts, "a transmitter bind gets no deliver_sm"
    deadline = time.time() + 30
    while time.time() < deadline and any(query(s, i).status == "3" for i in ids):
        time.sleep(0.2)
    assert all(query(s, i).status in ("1", "2") for i in ids)
    # No registered_delivery: no receipt; 2 (failures only): a receipt for the failure, none for the delivery.
    extra = submit_parts(tx, [dict(message("no receipt", to=HK)[0], registered_delivery=0),
                              dict(message("fail only", to=HK)[0], registered_delivery=2),
                              dict(message("fail only", to=HK_FAIL)[0], registered_delivery=2)])
    tx.unbind()
    tx.disconnect()
    time.sleep(1)
    rx = esme(s, mode="receiver")
    got = receive(rx, ids + [extra[2]])
    assert got[extra[2]] == "UNDELIV"
    time.sleep(1)
    rx.read_once()
    assert extra[0] not in got and extra[1] not in got, "only the messages that asked"
    rx.unbind()
    rx.disconnect()


def test_receipts_of_acknowledged_ids_survive_kill_9(smpp):
    s = smpp()
    tx = esme(s, mode="transmitter")
    ids, _ = submit_all(tx, 300)
    # More in flight when Petrel dies: those acknowledged before the kill count too.
    acked = {}
    tx.set_message_sent_handler(lambda pdu: acked.__setitem__(pdu.sequence, (pdu.status, pdu.message_id)))
    for i in range(40):
        tx.send_message(**message(f"in flight {i}", to=HK)[0])
    tx.read_once()
    s.kill9()
    ids += [mid.decode() for status, mid in acked.values() if status == 0]
    s.start()
    s.smpp_port = smpp_port(s)
    rx = esme(s, mode="receiver")
    receive(rx, ids)
    rx.unbind()
    rx.disconnect()
    assert all(query(s, i).status in ("1", "2") for i in ids), "every acknowledged id ends terminal"
