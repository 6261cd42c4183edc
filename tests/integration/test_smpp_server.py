"""Petrel's SMPP server (issue 29) with smpplib as the customer's ESME: binds, credentials, limits and hostile peers."""
import re
import socket
import struct
import time

import pytest
import requests
import smpplib.client
import smpplib.consts as C
import smpplib.exceptions
import smpplib.smpp

from conftest import FAST_SANDBOX, wait_for


def smpp_port(server):
    line = next(l for l in server.output if l.startswith("SMPP server listening on "))
    return int(re.search(r":(\d+)(?: \(TLS\))?$", line.strip()).group(1))


def smpp_config(**server):
    config = dict(FAST_SANDBOX)
    config["smppServer"] = {"listen": "127.0.0.1:0", **server}
    return config


@pytest.fixture
def smpp(make_server):
    def make(users=(("crm01", "pw123", []),), **server):
        s = make_server(smpp_config(**server))
        for system_id, password, extra in users:
            s.cli("smpp-users", "add", system_id, "--password", password, "--account", "default", *extra)
        s.smpp_port = smpp_port(s)
        return s
    return make


def esme(server, system_id="crm01", password="pw123", mode="transceiver"):
    c = smpplib.client.Client("127.0.0.1", server.smpp_port, timeout=5, allow_unknown_opt_params=True)
    c.connect()
    getattr(c, f"bind_{mode}")(system_id=system_id, password=password)
    return c


def bind_status(server, system_id, password):
    c = smpplib.client.Client("127.0.0.1", server.smpp_port, timeout=5, allow_unknown_opt_params=True)
    c.connect()
    try:
        c.bind_transceiver(system_id=system_id, password=password)
    except smpplib.exceptions.PDUError as e:
        c.disconnect()
        return e.args[1]
    c.unbind()
    c.disconnect()
    return 0


def raw(server):
    s = socket.create_connection(("127.0.0.1", server.smpp_port), timeout=5)
    return s


def pdu(command_id, sequence, body=b"", status=0):
    return struct.pack(">IIII", 16 + len(body), command_id, status, sequence) + body


def read_pdu(s):
    head = b""
    while len(head) < 16:
        chunk = s.recv(16 - len(head))
        if not chunk:
            return None
        head += chunk
    length, command, status, sequence = struct.unpack(">IIII", head)
    body = b""
    while len(body) < length - 16:
        body += s.recv(length - 16 - len(body))
    return command, status, sequence, body


def closed(s, timeout=5):
    s.settimeout(timeout)
    try:
        while True:
            if not s.recv(4096):
                return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def submit_body(to="85291234567", text=b"hi"):
    return (b"\0" + b"\x01\x01" + b"Petrel\0" + b"\x01\x01" + to.encode() + b"\0" + b"\0\0\0" + b"\0\0"
            + b"\0\0\0\0" + bytes([len(text)]) + text)


def bind_body(system_id, password):
    return system_id.encode() + b"\0" + password.encode() + b"\0" + b"\0" + bytes([0x34, 0, 0]) + b"\0"


def test_binds_of_every_mode_and_wrong_credentials(smpp):
    s = smpp(users=(("crm01", "pw123", []), ("off", "pw", [])))
    for mode in ("transmitter", "receiver", "transceiver"):
        c = esme(s, mode=mode)
        assert 'petrel_smpp_server_binds{account="default"} 1' in requests.get(s.url("/metrics"), timeout=5).text
        c.send_pdu(smpplib.smpp.make_pdu("enquire_link", client=c))
        assert c.read_pdu().command == "enquire_link_resp"
        c.unbind()
        c.disconnect()
    assert bind_status(s, "crm01", "Xq9zz") == C.SMPP_ESME_RBINDFAIL
    assert bind_status(s, "nobody", "pw123") == C.SMPP_ESME_RBINDFAIL
    s.cli("smpp-users", "disable", "off")
    assert bind_status(s, "off", "pw") == C.SMPP_ESME_RBINDFAIL
    s.cli("smpp-users", "enable", "off")
    assert bind_status(s, "off", "pw") == 0
    assert wait_for(lambda: 'petrel_smpp_server_binds{account="default"} 0' in
                    requests.get(s.url("/metrics"), timeout=5).text)
    listed = s.cli("smpp-users", "list").stdout
    assert "crm01" in listed and "pw123" not in listed
    s.cli("smpp-users", "delete", "off")
    assert bind_status(s, "off", "pw") == C.SMPP_ESME_RBINDFAIL
    # The password never reaches the log, whatever the ESME sent.
    assert not any("pw123" in line or "Xq9zz" in line for line in s.output)


def test_cli_refuses_what_smpp_cannot_carry(smpp):
    s = smpp(users=())
    r = s.cli("smpp-users", "add", "sixteen_chars_id", "--password", "pw", "--account", "default", check=False)
    assert r.returncode != 0 and "1 to 15" in r.stderr
    r = s.cli("smpp-users", "add", "crm", "--password", "ninechars", "--account", "default", check=False)
    assert r.returncode != 0 and "1 to 8" in r.stderr
    r = s.cli("smpp-users", "add", "crm", "--password", "pw", "--account", "default", "--allow-ip", "10.0.0/8",
              check=False)
    assert r.returncode != 0 and "--allow-ip" in r.stderr
    r = s.cli("smpp-users", "add", "crm", "--password", "pw", "--account", "nosuch", check=False)
    assert r.returncode != 0 and "no account nosuch" in r.stderr
    s.cli("smpp-users", "add", "crm", "--password", "pw", "--account", "default")
    r = s.cli("smpp-users", "add", "crm", "--password", "pw", "--account", "default", check=False)
    assert r.returncode != 0 and "exists" in r.stderr


def test_bind_limits_per_user_and_in_all_and_allowed_addresses(smpp):
    s = smpp(users=(("two", "pw", ["--max-binds", "2"]), ("any", "pw", []),
                    ("far", "pw", ["--allow-ip", "10.0.0.0/8"]), ("near", "pw", ["--allow-ip", "127.0.0.0/8"])),
             maxBinds=3)
    a, b = esme(s, "two", "pw"), esme(s, "two", "pw")
    assert bind_status(s, "two", "pw") == C.SMPP_ESME_RALYBND
    c = esme(s, "any", "pw")
    assert bind_status(s, "any", "pw") == C.SMPP_ESME_RBINDFAIL      # the server holds maxBinds
    a.unbind()
    a.disconnect()
    assert wait_for(lambda: bind_status(s, "any", "pw") == 0)
    for client in (b, c):
        client.unbind()
        client.disconnect()
    assert bind_status(s, "far", "pw") == C.SMPP_ESME_RBINDFAIL
    assert bind_status(s, "near", "pw") == 0


def test_hostile_peers_are_closed_and_others_keep_going(smpp):
    s = smpp()
    good = esme(s)
    # An unknown command gets generic_nack; the session goes on.
    r = raw(s)
    r.sendall(pdu(0x00000077, 5))
    command, status, sequence, _ = read_pdu(r)
    assert (command, status, sequence) == (0x80000000, C.SMPP_ESME_RINVCMDID, 5)
    r.sendall(pdu(0x00000015, 6))
    assert read_pdu(r)[0] == 0x80000015
    # submit_sm before binding is refused with ESME_RINVBNDSTS.
    r.sendall(pdu(0x00000004, 7, submit_body()))
    assert read_pdu(r)[:3] == (0x80000004, C.SMPP_ESME_RINVBNDSTS, 7)
    # Garbage in a row closes it.
    for i in range(10):
        r.sendall(pdu(0x00000099, 100 + i))
    assert closed(r)
    # A huge command_length closes at once, without waiting for (or buffering) the bytes it announces.
    h = raw(s)
    h.sendall(struct.pack(">IIII", 0x7FFFFFFF, 4, 0, 1))
    assert closed(h)
    # A flood past the window, never reading the answers: closed, not buffered.
    f = raw(s)
    f.sendall(pdu(0x00000009, 1, bind_body("crm01", "pw123")))
    assert read_pdu(f)[:2] == (0x80000009, 0)
    submit = pdu(0x00000004, 2, submit_body())
    try:
        f.sendall(submit * 5000)
    except OSError:
        pass
    assert closed(f, timeout=10)
    # The good bind lived through all of it.
    good.send_pdu(smpplib.smpp.make_pdu("enquire_link", client=good))
    assert good.read_pdu().command == "enquire_link_resp"
    good.unbind()
    good.disconnect()
    assert s.proc.poll() is None


def test_idle_binds_are_closed(smpp):
    s = smpp(idleSeconds=5)
    r = raw(s)
    r.sendall(pdu(0x00000009, 1, bind_body("crm01", "pw123")))
    assert read_pdu(r)[:2] == (0x80000009, 0)
    started = time.time()
    assert closed(r, timeout=15)
    assert 4 <= time.time() - started < 10
    never = raw(s)
    assert closed(never, timeout=15)


import smpplib.gsm  # noqa: E402
from alibabacloud_dysmsapi20180501 import models as m  # noqa: E402

from conftest import HK  # noqa: E402


def submit_and_wait(c, parts):
    """Sends every part (smpplib PDUs' arguments), then reads until each has its submit_sm_resp; returns
    (status, message_id) in the order sent."""
    answers = {}
    c.set_message_sent_handler(lambda pdu: answers.__setitem__(pdu.sequence, (pdu.status, pdu.message_id)))
    c.set_error_pdu_handler(lambda pdu: answers.__setitem__(pdu.sequence, (pdu.status, None)))
    sequences = [c.send_message(**p).sequence for p in parts]
    deadline = time.time() + 15
    while len([s for s in sequences if s in answers]) < len(sequences) and time.time() < deadline:
        c.read_once()
    return [answers.get(s, (None, None)) for s in sequences]


def message(text, to=HK, sender="Petrel", **extra):
    parts, coding, esm = smpplib.gsm.make_parts(text)
    return [dict(source_addr_ton=C.SMPP_TON_ALNUM, source_addr=sender, dest_addr_ton=C.SMPP_TON_INTL,
                 destination_addr=to, short_message=p, data_coding=coding, esm_class=esm,
                 registered_delivery=1, **extra) for p in parts]


def query(server, message_id):
    return server.client().query_message(m.QueryMessageRequest(message_id=message_id)).body


def test_submits_are_accepted_durably_as_one_message_each(smpp):
    s = smpp()
    c = esme(s, mode="transmitter")
    texts = ["hello from an ESME", "Ünïcødé 你好, over SMPP", "long " * 80, "长消息 " * 60]
    for text in texts:
        answers = submit_and_wait(c, message(text))
        assert {a[0] for a in answers} == {0}, answers
        ids = {a[1].decode() for a in answers}
        assert len(ids) == 1, f"the parts of one message got several ids: {ids}"
        q = query(s, ids.pop())
        assert q.message == text and q.to == HK, q.to_map()
    # SAR TLVs instead of a header: one message too.
    sar = [dict(source_addr="Petrel", source_addr_ton=C.SMPP_TON_ALNUM, destination_addr=HK,
                dest_addr_ton=C.SMPP_TON_INTL, short_message=chunk, sar_msg_ref_num=77, sar_total_segments=2,
                sar_segment_seqnum=i + 1) for i, chunk in enumerate((b"first half, ", b"second half"))]
    answers = submit_and_wait(c, sar)
    assert answers[0][0] == 0 and answers[0][1] == answers[1][1]
    assert query(s, answers[0][1].decode()).message == "first half, second half"
    c.unbind()
    c.disconnect()


def test_refusals_are_mapped_to_smpp_statuses(smpp):
    s = smpp(users=(("crm01", "pw123", []), ("slow", "pw", ["--tps", "2"])))
    c = esme(s)
    assert submit_and_wait(c, message("hi", to="123"))[0][0] == C.SMPP_ESME_RINVDSTADR
    assert submit_and_wait(c, message("hi", sender="not a sender!"))[0][0] == C.SMPP_ESME_RINVSRCADR
    assert submit_and_wait(c, message("x" * 1700))[0][0] == C.SMPP_ESME_RINVMSGLEN
    # UCS-2 with an odd byte count is no text: refused, not stored as hex.
    odd = [dict(destination_addr=HK, dest_addr_ton=C.SMPP_TON_INTL, short_message=b"\x00a\x00", data_coding=8)]
    assert submit_and_wait(c, odd)[0][0] == C.SMPP_ESME_RSUBMITFAIL
    c.unbind()
    c.disconnect()
    assert "slow" in s.cli("smpp-users", "list").stdout.split("\n")[2] and " 2 " in s.cli("smpp-users", "list").stdout
    slow = esme(s, "slow", "pw")
    statuses = [a[0] for a in submit_and_wait(slow, [p for _ in range(6) for p in message("tps")])]
    assert statuses.count(0) >= 2 and C.SMPP_ESME_RTHROTTLED in statuses, statuses
    slow.unbind()
    slow.disconnect()


def test_a_second_stack_net_smpp_binds_and_submits(smpp):
    """Debian's libnet-smpp-perl (Net::SMPP) as the ESME: ids for GSM and UCS-2 texts, a wrong password refused."""
    import subprocess

    from conftest import PEERS
    s = smpp(users=(("perl", "pw", []),))

    def run(password, *texts):
        return subprocess.run(["perl", str(PEERS / "esme_perl.pl"), "127.0.0.1", str(s.smpp_port), "perl", password,
                               HK, *texts], capture_output=True, text=True, timeout=60)

    texts = ["hello from Net::SMPP", "Ünïcødé 你好"]
    r = run("pw", *texts)
    assert r.returncode == 0, r.stdout + r.stderr
    answers = [line.split() for line in r.stdout.splitlines()]
    assert [a[0] for a in answers] == ["0", "0"], r.stdout
    for (_, message_id), text in zip(answers, texts):
        assert query(s, message_id).message == text
    r = run("bad", "x")
    assert r.returncode == 2 and r.stdout.strip() == f"bind {C.SMPP_ESME_RBINDFAIL}", r.stdout + r.stderr


def test_a_taken_port_is_refused_naming_the_key(tmp_path):
    from conftest import Server
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = dict(FAST_SANDBOX, smppServer={"listen": f"127.0.0.1:{port}"})
        with pytest.raises(RuntimeError) as e:
            Server(tmp_path / "data", config=config).start()
    assert f"smppServer.listen: cannot listen on 127.0.0.1:{port}" in str(e.value)
