"""Petrel's SMPP server over TLS (issue 29, `smppServer.tls`): smpplib through Python's ssl binds, submits and gets
its receipts; plain TCP and handshakes that never finish are closed without holding a slot; wrong files stop
`serve` with a sentence naming the key."""
import socket
import ssl
import time

import pytest
import smpplib.client
import smpplib.exceptions

from conftest import FAST_SANDBOX, Server
from test_smpp_receipts import receive, submit_all
from test_smpp_server import bind_body, pdu, query, smpp_port
from tlscerts import CA, self_signed


class Verifying:
    """What smpplib's ssl_context is asked for (wrap_socket of a new socket), verifying the server's certificate
    against the test CA and its name."""

    def __init__(self, ca):
        self.context = ssl.create_default_context(cafile=ca)

    def wrap_socket(self, raw):
        return self.context.wrap_socket(raw, server_hostname="localhost")


@pytest.fixture
def tls_smpp(make_server, tmp_path):
    ca = CA(tmp_path / "ca")
    cert, key = ca.issue("petrel-smpp")

    def make(**server):
        config = dict(FAST_SANDBOX)
        config["smppServer"] = {"listen": "127.0.0.1:0", "tls": {"certFile": cert, "keyFile": key}, **server}
        s = make_server(config)
        s.cli("smpp-users", "add", "crm01", "--password", "pw123", "--account", "default")
        s.smpp_port = smpp_port(s)
        s.ca = ca.cert
        return s
    return make


def tls_esme(server, mode="transceiver"):
    c = smpplib.client.Client("127.0.0.1", server.smpp_port, timeout=5, allow_unknown_opt_params=True,
                              ssl_context=Verifying(server.ca))
    c.connect()
    getattr(c, f"bind_{mode}")(system_id="crm01", password="pw123")
    return c


def closed(s, timeout):
    s.settimeout(timeout)
    try:
        while True:
            if not s.recv(4096):
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def test_an_esme_binds_over_tls_submits_and_gets_every_receipt(tls_smpp):
    s = tls_smpp()
    assert any(l.startswith("SMPP server listening on ") and l.rstrip().endswith("(TLS)") for l in s.output)
    c = tls_esme(s)
    assert isinstance(c._socket, ssl.SSLSocket) and c._socket.version() in ("TLSv1.2", "TLSv1.3")
    # Short GSM, long GSM (UDH parts), UCS-2, long UCS-2, over and over.
    ids, receipts = submit_all(c, 200)
    assert len(set(ids)) == 200
    receive(c, ids, receipts)
    assert list(receipts.values()).count("DELIVRD") >= 190
    assert query(s, ids[3]).message == "长消息 " * 50
    c.unbind()
    c.disconnect()


def test_plain_tcp_and_stalled_handshakes_are_closed_and_free_their_slots(tls_smpp):
    # maxBinds 1: 65 connections at once at most.
    s = tls_smpp(maxBinds=1, idleSeconds=5)
    # Plain SMPP against the TLS port: no handshake, closed at once.
    plain = socket.create_connection(("127.0.0.1", s.smpp_port), timeout=5)
    plain.sendall(pdu(0x00000009, 1, bind_body("crm01", "pw123")))
    assert closed(plain, timeout=5)
    # Every slot taken by a connection that never finishes its handshake: half a ClientHello record, or nothing.
    stalled = []
    for i in range(65):
        r = socket.create_connection(("127.0.0.1", s.smpp_port), timeout=5)
        if i % 2:
            r.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
        stalled.append(r)
    time.sleep(0.5)
    with pytest.raises(smpplib.exceptions.ConnectionError):
        tls_esme(s)
    started = time.time()
    assert all(closed(r, timeout=15) for r in stalled)
    assert time.time() - started < 12, "held by the bind deadline (idleSeconds 5), not forever"
    c = tls_esme(s)
    c.unbind()
    c.disconnect()
    assert s.proc.poll() is None


def test_an_untrusting_client_is_refused_by_its_own_check(tls_smpp, tmp_path):
    s = tls_smpp()
    other = CA(tmp_path / "other", name="Someone Else")
    c = smpplib.client.Client("127.0.0.1", s.smpp_port, timeout=5, allow_unknown_opt_params=True,
                              ssl_context=Verifying(other.cert))
    with pytest.raises(smpplib.exceptions.ConnectionError):
        c.connect()
    good = tls_esme(s)
    good.unbind()
    good.disconnect()


@pytest.mark.parametrize("which, words", [
    ("missing key", "smppServer.tls.keyFile: cannot read "),
    ("other key", "is not the private key of the certificate in "),
    ("no key", "smppServer.tls needs certFile and keyFile"),
])
def test_serve_refuses_tls_files_it_cannot_use(tmp_path, which, words):
    ca = CA(tmp_path / "ca")
    cert, key = ca.issue("petrel-smpp")
    _, other_key = self_signed(tmp_path / "other")
    tls = {"missing key": {"certFile": cert, "keyFile": str(tmp_path / "absent.key")},
           "other key": {"certFile": cert, "keyFile": other_key},
           "no key": {"certFile": cert}}[which]
    config = dict(FAST_SANDBOX, smppServer={"listen": "127.0.0.1:0", "tls": tls})
    with pytest.raises(RuntimeError) as e:
        Server(tmp_path / "data", config=config).start()
    assert words in str(e.value)
    assert "PRIVATE KEY" not in str(e.value)
