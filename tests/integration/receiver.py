"""A real HTTP receiver for pushed delivery receipts, with scripted misbehaviour."""
import hashlib
import hmac
import json
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Receiver:
    """Answers POSTs as Alibaba's contract says ({"code":0}) unless told otherwise by `script`: a list of
    behaviours used one per request, then "ok": "500", "wrong-body" (200 with code 1), ("slow", seconds)."""

    def __init__(self, secret=None, port=None, tls=None, host="127.0.0.1", client_ca=None):
        """`tls`: (cert file, key file) to serve https; `host`: the name in `url` (the certificate's name);
        `client_ca`: require a client certificate signed by this CA file."""
        self.secret = secret
        self.port = port or free_port()
        self.tls = tls
        self.host = host
        self.client_ca = client_ca
        self.script = []
        self.posts = []          # (headers, reports, accepted)
        self.lock = threading.Lock()
        self.server = None

    @property
    def url(self):
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}/receipts"

    def start(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    behaviour = receiver.script.pop(0) if receiver.script else "ok"
                if isinstance(behaviour, tuple) and behaviour[0] == "slow":
                    time.sleep(behaviour[1])
                    behaviour = "ok"
                accepted = behaviour == "ok"
                with receiver.lock:
                    receiver.posts.append((dict(self.headers), json.loads(body), accepted, body))
                if behaviour == "500":
                    self.send_response(500)
                    answer = b"busy"
                elif behaviour == "wrong-body":
                    self.send_response(200)
                    answer = b'{"code":1,"msg":"try later"}'
                else:
                    self.send_response(200)
                    answer = b'{"code":0,"msg":"The message is received."}'
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                try:
                    self.wfile.write(answer)
                except OSError:
                    pass                       # the client gave up (timeout): that is the point of "slow"

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        if self.tls:
            # A handshake that fails raises out of accept(), which serve_forever ignores (an OSError).
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*self.tls)
            if self.client_ca:
                context.verify_mode = ssl.CERT_REQUIRED
                context.load_verify_locations(self.client_ca)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def reports(self, accepted_only=True):
        with self.lock:
            return [r for (_, reports, ok, _) in self.posts if ok or not accepted_only for r in reports]

    def by_message(self):
        """The last accepted report of each MessageId."""
        return {r["MessageId"]: r for r in self.reports()}

    def check_signatures(self):
        with self.lock:
            for headers, _, _, body in self.posts:
                want = "sha256=" + hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
                assert headers.get("X-Petrel-Signature") == want, (headers, want)
