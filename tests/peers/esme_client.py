#!/usr/bin/env python3
"""A third-party ESME for the integration tests, on PyPI's `smpplib`.

usage: esme_client.py HOST PORT SYSTEM_ID PASSWORD N [--window W] [--json FILE]

Binds as a transceiver, submits N short messages (receipts requested) with at most W submit_sm unanswered, then waits
for the receipts of those accepted. Prints one line of results and writes them as JSON with --json.
Exit status: 0 when the session held to the end, 2 when the bind is refused, 3 when the connection is lost."""
import argparse
import json
import socket
import sys
import time

import smpplib.client
import smpplib.consts as C
import smpplib.exceptions
import smpplib.smpp


def options():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name in ("host", "port", "system_id", "password"):
        p.add_argument(name)
    p.add_argument("n", type=int, help="messages to submit")
    p.add_argument("--window", type=int, default=10, help="submit_sm sent and not yet answered, at most")
    p.add_argument("--json", help="write the results to this file")
    p.add_argument("--answer-timeout", type=float, default=10, help="seconds a submit_sm waits for its answer")
    p.add_argument("--receipt-timeout", type=float, default=30, help="seconds to wait for the receipts")
    return p.parse_args()


class ESME:
    def __init__(self, a):
        self.a = a
        self.waiting = {}                   # sequence number -> when the submit_sm went out
        self.statuses = {}                  # command_status of submit_sm_resp -> count
        self.accepted_ids = set()
        self.receipts = {}                  # receipted message id -> stat
        self.unanswered = 0
        self.client = smpplib.client.Client(a.host, int(a.port), timeout=1, allow_unknown_opt_params=True)
        self.client.set_message_sent_handler(self.answered)
        self.client.set_error_pdu_handler(lambda pdu: None)   # an error submit_sm_resp is counted by answered()
        self.client.set_message_received_handler(self.delivered)

    def answered(self, pdu):
        if self.waiting.pop(pdu.sequence, None) is None:
            return
        self.statuses[pdu.status] = self.statuses.get(pdu.status, 0) + 1
        if pdu.status == C.SMPP_ESME_ROK:
            self.accepted_ids.add(text(pdu.message_id))

    def delivered(self, pdu):
        if not pdu.esm_class & 0x04:         # a mobile-originated message, not a receipt
            return
        body = pdu.short_message or b""
        message_id = getattr(pdu, "receipted_message_id", None)
        if not message_id and body.startswith(b"id:"):
            message_id = body[3:].split(b" ", 1)[0]
        stat = body.split(b"stat:", 1)[1][:7].decode() if b"stat:" in body else "?"
        self.receipts[text(message_id).rstrip("\0")] = stat

    def read(self):
        """One PDU (or a 1 s timeout, after which smpplib sends enquire_link), then forget stale submits."""
        self.client.read_once()
        now = time.monotonic()
        for sequence in [s for s, sent in self.waiting.items() if now - sent > self.a.answer_timeout]:
            del self.waiting[sequence]
            self.unanswered += 1

    def submit_all(self):
        for i in range(self.a.n):
            while len(self.waiting) >= self.a.window:
                self.read()
            pdu = self.client.send_message(
                source_addr_ton=C.SMPP_TON_INTL, source_addr="12345", dest_addr_ton=C.SMPP_TON_INTL,
                destination_addr="31600000000", short_message=f"message {i}".encode(),
                data_coding=C.SMPP_ENCODING_DEFAULT, registered_delivery=1)
            self.waiting[pdu.sequence] = time.monotonic()
        while self.waiting:
            self.read()

    def await_receipts(self):
        deadline = time.monotonic() + self.a.receipt_timeout
        while not self.accepted_ids <= self.receipts.keys() and time.monotonic() < deadline:
            self.read()

    def unbind(self):
        try:
            self.client.send_pdu(smpplib.smpp.make_pdu("unbind", client=self.client))
            while self.client.read_pdu().command != "unbind_resp":
                pass
        except Exception:
            pass                            # closing anyway

    def run(self):
        self.client.connect()
        # smpplib writes each PDU on its own: without TCP_NODELAY, Nagle and delayed ACKs stall the window.
        self.client._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            self.client.bind_transceiver(system_id=self.a.system_id, password=self.a.password)
        except (smpplib.exceptions.PDUError, smpplib.exceptions.ConnectionError) as e:
            print(f"bind refused: {e}")
            self.client.disconnect()
            return 2, None
        started, error = time.monotonic(), None
        try:
            self.submit_all()
            submit_seconds = time.monotonic() - started
            self.await_receipts()
            self.unbind()
        except (smpplib.exceptions.ConnectionError, OSError) as e:
            submit_seconds = time.monotonic() - started
            error = f"connection lost: {type(e).__name__} {e}".strip()
        self.client.state = C.SMPP_CLIENT_STATE_OPEN   # no second unbind from disconnect()
        self.client.disconnect()
        answers = sum(self.statuses.values())
        return (3 if error else 0), dict(
            messages=self.a.n, window=self.a.window, accepted=len(self.accepted_ids),
            statuses={hex(k): v for k, v in self.statuses.items()}, unanswered=self.unanswered + len(self.waiting),
            submit_per_sec=round(answers / submit_seconds, 1) if submit_seconds > 0 else None,
            receipts=len(self.receipts), receipts_matched=len(self.accepted_ids & self.receipts.keys()),
            seconds=round(time.monotonic() - started, 3), error=error)


def text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


if __name__ == "__main__":
    a = options()
    status, result = ESME(a).run()
    if result:
        print(json.dumps(result))
        if a.json:
            with open(a.json, "w") as f:
                json.dump(result, f, indent=1)
    sys.exit(status)
