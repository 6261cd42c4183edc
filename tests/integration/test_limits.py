"""Oversized and slow clients get a clear answer (or a closed connection), never a hang."""
import socket
import time

import requests

from conftest import FAST_SANDBOX


def test_limits_on_parameters_headers_bodies_and_idle_clients(make_server):
    cfg = dict(FAST_SANDBOX, api={"maxParameters": 50, "maxHeaderBytes": 4096, "idleTimeoutSeconds": 2, "maxBodyBytes": 65536})
    s = make_server(cfg)

    many = "&".join(f"p{i}=x" for i in range(60))
    r = requests.post(s.url("/?" + many), timeout=5)
    assert r.status_code == 400 and r.json()["Code"] == "InvalidParameter" and "at most 50" in r.json()["Message"]

    r = requests.post(s.url("/"), headers={"X-Big": "a" * 8000}, timeout=5)
    assert r.status_code in (400, 431)                     # the HTTP decoder refuses the head

    r = requests.post(s.url("/"), data=b"x" * 70000, headers={"Content-Type": "application/octet-stream"}, timeout=5)
    assert r.status_code == 413 and r.json()["Code"] == "RequestBodyTooLarge"

    # A client that opens a request and stalls is disconnected after the idle timeout.
    sock = socket.create_connection(("127.0.0.1", s.port), timeout=10)
    sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\n")
    t0 = time.time()
    assert sock.recv(1024) == b""                          # closed by the server, not by our timeout
    assert 1.5 < time.time() - t0 < 8
    sock.close()
    assert requests.get(s.url("/healthz"), timeout=5).status_code == 200
