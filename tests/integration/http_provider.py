"""A small fake SMS provider with an HTTP API, for Petrel's `type: http` channels.

POST /send with a JSON body {"to", "from", "text", "ref"}; what it answers depends on the recipient's last three
digits: 400 refuses (INVALID_NUMBER), 404 cannot route, 503 answers 503 to the first two tries, 900 answers a huge
body, 901 answers slowly, 902 answers garbage, 903 sends its answer's head at once and then its body a byte every
0.3 s; anything else is accepted with a new id ("P1", "P2", ...).
Every request and every connection is recorded."""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeProvider:
    def __init__(self, slow_seconds=5, pace_seconds=0):
        self.requests = []          # (path, headers dict, body dict or raw text)
        self.connections = set()    # client (host, port) pairs seen
        self.max_open = 0
        self.lock = threading.Lock()
        self.tries = {}
        self.next_id = 0
        self.slow_seconds = slow_seconds
        self.pace_seconds = pace_seconds
        self._open = 0
        provider = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()
                with provider.lock:
                    provider.connections.add(self.client_address)
                    provider._open += 1
                    provider.max_open = max(provider.max_open, provider._open)

            def finish(self):
                try:
                    super().finish()
                finally:
                    with provider.lock:
                        provider._open -= 1

            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length).decode()
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = raw
                with provider.lock:
                    provider.requests.append((self.path, dict(self.headers), body))
                    to = body.get("to", "") if isinstance(body, dict) else ""
                    provider.tries[to] = provider.tries.get(to, 0) + 1
                    tries = provider.tries[to]
                    provider.next_id += 1
                    pid = f"P{provider.next_id}"
                if provider.pace_seconds:
                    time.sleep(provider.pace_seconds)
                end = to[-3:]
                if end == "400":
                    return self.answer(400, {"error": "INVALID_NUMBER"})
                if end == "404":
                    return self.answer(404, {"error": "NO_ROUTE"})
                if end == "503" and tries <= 2:
                    return self.answer(503, {"error": "BUSY"}, {"Retry-After": "1"})
                if end == "900":
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(50 << 20))
                    self.end_headers()
                    try:
                        chunk = b"x" * 65536
                        for _ in range(800):
                            self.wfile.write(chunk)
                    except OSError:
                        pass
                    return
                if end == "901":
                    time.sleep(provider.slow_seconds)
                    return self.answer(200, {"id": pid})
                if end == "903":
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", "40")
                    self.end_headers()
                    try:
                        for _ in range(40):
                            self.wfile.write(b" ")
                            self.wfile.flush()
                            time.sleep(0.3)
                    except OSError:
                        pass
                    return
                if end == "902":
                    return self.answer(200, "{]]garbage\x00", raw=True)
                return self.answer(200, {"id": pid, "status": "queued"})

            def answer(self, status, body, headers=None, raw=False):
                data = (body if raw else json.dumps(body)).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in (headers or {}).items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/send"

    def sent_to(self, to):
        with self.lock:
            return [b for _, _, b in self.requests if isinstance(b, dict) and b.get("to") == to]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


RECEIPT_SECRET = "receipt-secret-0123456789"


def http_channel(provider, channel_id="acme", **extra):
    """A config with one HTTP channel to `provider` (then the sandbox) for every message."""
    channel = {
        "id": channel_id, "type": "http", "url": provider.url,
        "headers": {"Authorization": "Bearer test-token"},
        "json": '{"to": "${to}", "from": "${from}", "text": "${text}", "ref": "${messageId}"}',
        "timeout": 2, "retryMin": 1, "retryMax": 2, "maxAnswerBytes": 4096,
        "answer": {"messageId": "$.id", "errorCode": "$.error", "reroute": [404]},
        "receipts": {
            "secret": RECEIPT_SECRET, "messageId": "$.id", "status": "$.status", "errorCode": "$.err",
            "delivered": ["DELIVRD"], "failed": ["UNDELIV", "REJECTD"], "expired": ["EXPIRED"],
        },
    }
    channel.update(extra)
    return {
        "sandbox": {"deliveryDelayMs": 100}, "dispatcher": {"pollMs": 50},
        "channels": [channel],
        "routes": [{"channels": [channel_id, "sandbox"]}],
    }
