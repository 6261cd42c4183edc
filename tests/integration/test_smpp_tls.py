"""SMPP channels over TLS: a TLS front (Python's ssl, as stunnel) before a third-party SMSC, `petrel smsc
--tls-cert`, and handshakes that fail (wrong host name, untrusted certificate) shown in the channel's state."""
import re
import subprocess

import pytest
import requests
from alibabacloud_dysmsapi20180501 import models as m

from conftest import HK, PETREL, wait_for
from peers import PetrelSMSC, ThirdPartySMSC, carrier_config, statuses
from test_console import sign_in
from test_smpp import DELIVERED, batch, numbers
from tlscerts import CA
from tlsproxy import TLSFront


@pytest.fixture
def peers(tmp_path):
    made = []
    yield made
    for p in made:
        p.stop()


def metric(server, name):
    text = requests.get(server.url("/metrics"), timeout=5).text
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    return None


def channel_row(server):
    session, _ = sign_in(server)
    page = session.get(server.url("/console/channels"), timeout=10).text
    row = re.search(r"<tr>(?:(?!</tr>).)*carrier-a.*?</tr>", page, re.S)
    return row.group(0) if row else page


def test_two_thousand_messages_with_receipts_through_a_tls_front(peers, make_server, tmp_path):
    ca = CA(tmp_path / "ca")
    smsc = ThirdPartySMSC(tmp_path)
    peers.append(smsc)
    # Named by DNS only: NIOSSL also takes a certificate naming the address connected to.
    front = TLSFront(*ca.issue("smsc", ips=()), backend_port=smsc.port)
    peers.append(front)
    # Connected by address; the certificate must carry `serverName`.
    s = make_server(carrier_config(front.port, tls={"caFile": ca.cert, "serverName": "localhost"}))
    c = s.client()
    ids = batch(c, numbers(1000, 92400000)) + batch(c, numbers(1000, 92500000))
    assert len(ids) == 2000
    wait_for(lambda: statuses(s).get(DELIVERED, 0) == 2000, timeout=90)
    wait_for(lambda: smsc.summary().get("dlr_acked", 0) >= 2000, timeout=10)
    assert front.handshakes >= 1
    wait_for(lambda: metric(s, 'petrel_smpp_binds{channel="carrier-a"}') == 1, timeout=10)   # sampled every 5 s
    assert metric(s, 'petrel_smpp_channel_problem{channel="carrier-a",problem="tls_host_name_mismatch"}') == 0


@pytest.mark.parametrize("tls, words, problem", [
    ({"serverName": "smsc.wrong.example"}, "host name mismatch", "tls_host_name_mismatch"),
    ({}, "certificate not trusted", "tls_certificate_not_trusted"),
])
def test_a_failed_handshake_shows_in_the_channel_state_and_is_retried(peers, make_server, tmp_path, tls, words,
                                                                       problem):
    ca = CA(tmp_path / "ca")
    smsc = ThirdPartySMSC(tmp_path)
    peers.append(smsc)
    # Named by DNS only: NIOSSL also takes a certificate naming the address connected to.
    front = TLSFront(*ca.issue("smsc", ips=()), backend_port=smsc.port)
    peers.append(front)
    trusted = {"caFile": ca.cert} if "serverName" in tls else {}
    s = make_server(carrier_config(front.port, tls={**trusted, **tls}))
    mid = s.client().send_message_to_globe(m.SendMessageToGlobeRequest(to=HK, message="waits")).body.message_id
    gauge = f'petrel_smpp_channel_problem{{channel="carrier-a",problem="{problem}"}}'
    wait_for(lambda: metric(s, gauge) == 1, timeout=20)
    wait_for(lambda: front.accepted >= 3, timeout=20)         # retried, with backoff
    assert words in channel_row(s)
    assert metric(s, 'petrel_smpp_binds{channel="carrier-a"}') == 0
    assert smsc.summary().get("accepted", 0) == 0
    assert s.client().query_message(m.QueryMessageRequest(message_id=mid)).body.status == "3"   # still queued


def test_petrel_smsc_takes_a_tls_bind_from_petrel(peers, make_server, tmp_path):
    ca = CA(tmp_path / "ca")
    cert, key = ca.issue("petrel-smsc")
    smsc = PetrelSMSC(tmp_path, "--tls-cert", cert, "--tls-key", key)
    peers.append(smsc)
    assert any("(TLS)" in line for line in smsc.output)
    s = make_server(carrier_config(smsc.port, host="localhost", tls={"caFile": ca.cert}))
    c = s.client()
    mid = c.send_message_to_globe(m.SendMessageToGlobeRequest(to=HK, message="over TLS")).body.message_id
    wait_for(lambda: c.query_message(m.QueryMessageRequest(message_id=mid)).body.status == "1", timeout=20)
    wait_for(lambda: smsc.summary().get("accepted", 0) == 1, timeout=5)   # rewritten every second


def test_petrel_smsc_tls_flags_are_checked(tmp_path):
    ca = CA(tmp_path / "ca")
    cert, key = ca.issue("petrel-smsc")
    alone = subprocess.run([PETREL, "smsc", "--listen", "127.0.0.1:0", "--tls-cert", cert], capture_output=True,
                           text=True, timeout=30)
    assert alone.returncode != 0 and "--tls-cert and --tls-key go together" in alone.stderr + alone.stdout
    wrong = subprocess.run([PETREL, "smsc", "--listen", "127.0.0.1:0", "--tls-cert", cert, "--tls-key", cert],
                           capture_output=True, text=True, timeout=30)
    assert wrong.returncode != 0 and "--tls-key" in wrong.stderr + wrong.stdout
