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


def read_responses(sock, count, timeout=10):
    """Reads `count` HTTP/1.1 responses (Content-Length framed) from a socket; returns [(status, headers, body)]."""
    sock.settimeout(timeout)
    data = b""
    out = []
    while len(out) < count:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                return out
            data += chunk
        head, data = data.split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:])}
        length = int(headers.get("content-length", "0"))
        while len(data) < length:
            data += sock.recv(65536)
        out.append((int(lines[0].split()[1]), headers, data[:length]))
        data = data[length:]
    return out


def test_pipelined_requests_are_answered_in_order_across_both_http_paths(server):
    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.sendall(b"GET /?Format=XML HTTP/1.1\r\nHost: x\r\n\r\n"
                 b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                 b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
                 b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    answers = read_responses(sock, 4)
    sock.close()
    assert [a[0] for a in answers] == [400, 200, 400, 200], answers
    assert answers[0][2].startswith(b"<?xml") and answers[1][2] == b"ok\n"
    assert answers[2][2].startswith(b"{") and answers[3][2] == b"ok\n"


def test_a_busy_keep_alive_connection_outlives_the_idle_timeout_and_close_is_honoured(make_server):
    s = make_server(dict(FAST_SANDBOX, api={"idleTimeoutSeconds": 1}))
    sock = socket.create_connection(("127.0.0.1", s.port))
    t0 = time.time()
    answered = 0
    while time.time() - t0 < 3.5:                   # 3.5 idle timeouts of continuous use on one connection
        sock.sendall(b"GET /?Action=SendMessageToGlobe HTTP/1.1\r\nHost: x\r\n\r\n")
        answered += len(read_responses(sock, 1))
        time.sleep(0.3)
    assert answered >= 8                             # every request answered on the same connection
    # Idle now: closed within about the timeout.
    sock.settimeout(5)
    t1 = time.time()
    assert sock.recv(1024) == b"" and time.time() - t1 < 3
    sock.close()

    sock = socket.create_connection(("127.0.0.1", s.port))
    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    (status, headers, _), = read_responses(sock, 1)
    assert headers.get("connection") == "close"
    sock.settimeout(5)
    assert sock.recv(1024) == b""
    sock.close()
